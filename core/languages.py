"""
The site's languages, read from ``settings.LANGUAGES`` at the moment they are needed.

Nothing here lists languages: adding one stays a line in ``LANGUAGES`` plus catalogues.
Model fields take ``choices=language_choices`` (the function itself), so migrations refer
to this function instead of copying the list, and a new language needs no migration.
"""

from django.conf import settings
from django.utils.text import capfirst
from django.utils.translation import get_language_info


def language_choices() -> list[tuple[str, str]]:
    """Return ``settings.LANGUAGES``: codes with names in the reader's language."""
    return list(settings.LANGUAGES)


def language_codes() -> list[str]:
    """Return the codes of ``settings.LANGUAGES``, in their order."""
    return [code for code, _name in settings.LANGUAGES]


def language_name_local(code: str) -> str:
    """Return the language named in itself ("한국어", "Français"), for menus and forms."""
    try:
        return capfirst(get_language_info(code)["name_local"])
    except KeyError:  # a code Django does not know: its name from the settings
        return str(dict(settings.LANGUAGES).get(code, code))


def language_is_bidi(code: str) -> bool:
    """Return whether ``code`` is written right to left (Django's rule: LANGUAGES_BIDI)."""
    return code.split("-")[0] in settings.LANGUAGES_BIDI


def local_language_choices() -> list[tuple[str, str]]:
    """Return ``(code, name in itself)`` for every language, for choices a resident reads."""
    return [(code, language_name_local(code)) for code in language_codes()]


def language_menu() -> list[dict]:
    """Return every language as the language menu shows it: code, name in itself, direction."""
    return [
        {
            "code": code,
            "name_local": language_name_local(code),
            "dir": "rtl" if language_is_bidi(code) else "ltr",
        }
        for code in language_codes()
    ]
