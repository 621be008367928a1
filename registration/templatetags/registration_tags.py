"""Small template helpers of the registration pages."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """Return ``mapping[key]`` or ``None`` (dicts keyed by a variable)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
