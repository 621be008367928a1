"""Small template helpers of the registration pages."""

import hashlib
import threading
from collections import OrderedDict

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms, template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from registration.documents import document_thumbnail_inline

register = template.Library()

# A fresh form's fields drawn by crispy-forms (its template is most of a form page's work),
# kept per process: at most this many, the least recently used dropped first.
FRESH_FIELDS_KEPT = 256
_fresh_fields: OrderedDict = OrderedDict()
_fresh_lock = threading.Lock()
fresh_field_counts = {"drawn": 0, "reused": 0}


@register.filter
def get_item(mapping, key):
    """Return ``mapping[key]`` or ``None`` (dicts keyed by a variable)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def review_thumbnail_src(document) -> str:
    """The review page's thumbnail of ``document``: inline, else the thumbnail's URL."""
    return document_thumbnail_inline(document=document) or reverse(
        "registration:attempt_photo", args=[document.public_id]
    )


@register.simple_tag
def image_max_side():
    """Return the longest side, in pixels, of the photos the server keeps."""
    return settings.REGISTRATION_IMAGE_MAX_SIDE


def _frozen(value):
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    # The type too: True and 1 are equal keys, but an attribute True is drawn bare.
    return None if value is None else (type(value).__name__, str(value))


def _fresh_field_key(field):
    """
    What a field of a form nobody has sent yet is drawn from, or None when it holds an
    answer typed in (a passport read, a form shown again): those are drawn every time and
    never kept. A choice (nationality, language …) is no typed answer.
    """
    form, spec = field.form, field.field
    if form.is_bound or getattr(form, "helper", None) is not None:
        return None
    value = field.value()
    if value not in (None, "") and not isinstance(spec, forms.ChoiceField):
        return None
    widget = spec.widget
    return (
        type(form),
        field.html_name,
        field.auto_id,
        get_language(),
        str(field.label),
        str(field.help_text),
        _frozen(value),
        spec.required,
        spec.disabled,
        spec.localize,
        spec.show_hidden_initial,
        form.use_required_attribute,
        type(form.renderer),
        type(widget),
        _frozen(sorted(widget.attrs.items())),
        _digest(getattr(spec, "choices", None)),
    )


def _digest(choices) -> bytes | None:
    # ~250 countries: their digest is kept in the key, not the names themselves.
    if choices is None:
        return None
    return hashlib.blake2b(repr(_frozen(list(choices))).encode(), digest_size=16).digest()


@register.filter
def as_field(field):
    """
    ``field|as_crispy_field``, the same HTML, but a fresh form's field is drawn once per
    process (per language, label, help text, value and choices) and then reused.
    """
    key = _fresh_field_key(field)
    if key is None:
        return as_crispy_field(field)
    with _fresh_lock:
        html = _fresh_fields.get(key)
        if html is not None:
            _fresh_fields.move_to_end(key)
            fresh_field_counts["reused"] += 1
            return html
    html = as_crispy_field(field)
    with _fresh_lock:
        fresh_field_counts["drawn"] += 1
        _fresh_fields[key] = html
        while len(_fresh_fields) > FRESH_FIELDS_KEPT:
            _fresh_fields.popitem(last=False)
    return html


@register.simple_tag
def hidden_answers(form):
    """
    The form's answers (its photos aside) as hidden inputs: what ``field.as_hidden`` gives
    for each, written straight out instead of through a widget template per field.
    """
    inputs = []
    hidden = forms.HiddenInput()
    for field in form:
        if field.name in form.photo_kinds:
            continue
        if field.field.hidden_widget is not forms.HiddenInput or field.field.localize:
            inputs.append(field.as_hidden())
            continue
        attrs = field.build_widget_attrs({}, hidden)
        if field.auto_id:
            attrs.setdefault("id", field.auto_id)
        value = hidden.format_value(field.value())
        inputs.append(
            format_html(
                '<input type="hidden" name="{}"{}{}>',
                field.html_name,
                "" if value is None else format_html(' value="{}"', value),
                _attributes(attrs),
            )
        )
    return mark_safe("".join(inputs))  # noqa: S308 - every part escaped by format_html


def _attributes(attrs: dict) -> str:
    # As django/forms/widgets/attrs.html: True is a bare name, False leaves it out.
    return mark_safe(  # noqa: S308 - every part escaped by format_html
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )
