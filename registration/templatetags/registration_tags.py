"""Small template helpers of the registration pages."""

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def get_item(mapping, key):
    """Return ``mapping[key]`` or ``None`` (dicts keyed by a variable)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def image_max_side():
    """Return the longest side, in pixels, of the photos the server keeps."""
    return settings.REGISTRATION_IMAGE_MAX_SIDE
