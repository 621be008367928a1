"""Render a message from its owning app's templates, in the message's language."""

from dataclasses import dataclass

from django.conf import settings
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

from notifications.constants import SECRET_MASK, SECRET_PREFIX, Channel


@dataclass
class RenderedMessage:
    """The texts of a message: subject, plain text and optional HTML (email) or SMS text."""

    subject: str = ""
    text: str = ""
    html: str = ""


def language_resolve(language: str | None) -> str:
    """Return ``language`` if it is one of ``settings.LANGUAGES``, else ``LANGUAGE_CODE``."""
    codes = [code for code, _label in settings.LANGUAGES]
    if language:
        lowered = language.lower().replace("_", "-")
        for code in codes:
            if code.lower() == lowered:
                return code
    return settings.LANGUAGE_CODE


def station_name(station, language: str) -> str:
    """Return the name of ``station`` in ``language`` (or its best fallback)."""
    text = station.text(language)
    return text.name if text else station.code


def message_context(message, *, mask_secrets: bool = False) -> dict:
    """Return the template context of ``message``: its stored values plus common ones."""
    context = dict(message.context or {})
    if mask_secrets:
        context = {
            key: (SECRET_MASK if key.startswith(SECRET_PREFIX) else value)
            for key, value in context.items()
        }
    context.setdefault("site_url", settings.SITE_URL)
    context.setdefault("recipient_name", message.recipient_name)
    context.setdefault("language", message.language)
    if message.station_id:
        context.setdefault("station_name", station_name(message.station, message.language))
        context.setdefault("station_code", message.station.code)
    return context


def _render_text(name: str, context: dict) -> str:
    """Render a plain-text template without HTML escaping (``&`` in a link stays ``&``)."""
    template = get_template(name)
    engine_template = getattr(template, "template", None)
    if engine_template is None:  # another template engine: trust its own escaping rules
        return template.render(context)
    return engine_template.render(Context(context, autoescape=False))


def message_render(message, *, mask_secrets: bool = False) -> RenderedMessage:
    """
    Render ``message`` inside ``translation.override(message.language)`` and the local
    time zone (``settings.TIME_ZONE``, the stations' city), so a moment reads as the
    recipient's wall clock in their language's format (``notifications/templatetags``).

    Email: ``messages/<template>/subject.txt``, ``body.txt`` and optional ``body.html``.
    SMS: ``messages/<template>/sms.txt``. WeChat: ``subject.txt`` and ``sms.txt``. A missing template raises TemplateDoesNotExist.
    ``.txt`` templates are rendered without HTML escaping; ``body.html`` with it.
    """
    base = f"messages/{message.template}"
    with translation.override(message.language), timezone.override(settings.TIME_ZONE):
        context = message_context(message, mask_secrets=mask_secrets)
        if message.channel == Channel.SMS:
            return RenderedMessage(text=_render_text(f"{base}/sms.txt", context).strip())
        if message.channel == Channel.WECHAT:  # a template message: a title and a short text
            subject = " ".join(_render_text(f"{base}/subject.txt", context).split())
            return RenderedMessage(
                subject=subject, text=_render_text(f"{base}/sms.txt", context).strip()
            )
        subject = _render_text(f"{base}/subject.txt", context)
        subject = " ".join(subject.split())
        text = _render_text(f"{base}/body.txt", context).strip() + "\n"
        try:
            html = render_to_string(f"{base}/body.html", context)
        except TemplateDoesNotExist:
            html = ""
        return RenderedMessage(subject=subject, text=text, html=html)
