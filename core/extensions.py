"""
Extension points: what a higher app plugs into a lower one without the lower one importing
it, named by dotted paths in settings (ARCHITECTURE.md, "Where things plug in"). Each path
is imported once, on first use.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


def extensions(name: str) -> list | dict:
    """
    Return setting ``name`` with its dotted paths imported: a list of paths (or of tuples of
    paths) gives a list of objects (or of tuples), a dict ``key → path`` a dict ``key → object``.
    """
    value = getattr(settings, name)
    if isinstance(value, dict):
        return dict(zip(value, _imported(tuple(value.values())), strict=True))
    return list(_imported(tuple(path if isinstance(path, str) else tuple(path) for path in value)))


@cache
def _imported(paths: tuple) -> tuple:
    return tuple(
        import_string(path) if isinstance(path, str) else _imported(path) for path in paths
    )
