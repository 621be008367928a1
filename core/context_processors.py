"""Template context every page needs, whatever app renders it."""

from core.languages import language_menu


def languages(request) -> dict:
    """Offer the language menu: every language named in itself, with its writing direction."""
    return {"linli_languages": language_menu()}
