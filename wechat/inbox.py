"""
What a follower's message gets: the passive reply's text, decided from the verified fields.

- a **bound** resident (a ``WeChatBinding`` for the sender) is answered in the language of
  their binding: a photo starts a return from abroad (``wechat.arrivals``) and the reply
  links to the page where they confirm it; other media, text and the subscribe event get
  a short help. A photo refused since their last message is explained first.
- an **unbound** sender is told how to link their WeChat and how to register; nothing is
  downloaded, stored or said about any resident. WeChat tells us no language: the reply is
  in the installation's language, then Chinese and English.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from core.languages import language_codes
from registration.selectors import registration_active_of_resident
from wechat.arrivals import arrival_link_url, arrival_photo_receive, arrival_refusals_untold
from wechat.constants import ArrivalRefusal
from wechat.selectors import binding_for_openid

OTHER_MEDIA = frozenset({"voice", "video", "shortvideo", "file", "location", "link"})
STRANGER_LANGUAGES = ("zh-hans", "en")  # besides the installation's own


def _home() -> str:
    return settings.SITE_URL + reverse("stations:home")


def _stranger_languages() -> list[str]:
    wanted = dict.fromkeys([settings.LANGUAGE_CODE, *STRANGER_LANGUAGES])
    known = set(language_codes())
    return [code for code in wanted if code in known]


def _to_stranger(text) -> str:
    """Return ``text()`` in each language a stranger may read, one paragraph each."""
    parts = []
    for code in _stranger_languages():
        with translation.override(code):
            parts.append(text())
    return "\n\n".join(dict.fromkeys(parts))


def _link_how() -> str:
    return _(
        "Open your private link (from your registration's confirmation) inside WeChat: it "
        "offers to link your WeChat to your registration."
    )


def _stranger_photo() -> str:
    return " ".join(
        [
            _("We did not keep your photo: this WeChat is not linked to a registration."),
            _link_how(),
            _("Then send the photo of your entry stamp again."),
            _("Not registered yet? Scan your station's QR code or open %(link)s")
            % {"link": _home()},
        ]
    )


def _stranger_welcome() -> str:
    return " ".join(
        [
            _("Welcome to the expat service station!"),
            _("To hear from the station here and send your arrival record as a photo:"),
            _link_how(),
            _("Not registered yet? Scan your station's QR code or open %(link)s")
            % {"link": _home()},
        ]
    )


def _resident_help() -> str:
    return _(
        "Back from a trip abroad? Send a photo of your new entry stamp here and confirm on "
        'the page we send you. "My registration" in the menu opens your registrations.'
    )


def _refusal_notice(refused) -> str:
    reasons = ", ".join(
        dict.fromkeys(str(ArrivalRefusal(photo.refusal).label) for photo in refused)
    )
    return _(
        "We could not use the photo you sent earlier (%(reasons)s). Please take it again "
        "and send it here."
    ) % {"reasons": reasons}


def _photo(binding, fields) -> str:
    registration = registration_active_of_resident(resident_id=binding.resident_id)
    media_id = fields.get("MediaId", "")
    if registration is None or not media_id:
        return " ".join(
            [
                _("We did not keep your photo: you have no active registration to update."),
                _("To register your stay, scan your station's QR code or open %(link)s")
                % {"link": _home()},
            ]
        )
    token = arrival_photo_receive(
        registration=registration,
        msg_id=fields.get("MsgId") or media_id,
        media_id=media_id,
    )
    return _("We got your photo. Confirm your return from abroad on this page: %(link)s") % {
        "link": arrival_link_url(token)
    }


def message_answer(fields: dict[str, str]) -> str | None:
    """Return the text of the passive reply to the verified message ``fields``, or None."""
    msg_type = fields.get("MsgType", "").lower()
    event = fields.get("Event", "").lower() if msg_type == "event" else ""
    if msg_type == "event" and event != "subscribe":
        return None  # unsubscribe, menu clicks, template receipts: nothing to say
    binding = binding_for_openid(fields["FromUserName"])
    if binding is None:
        return _to_stranger(_stranger_photo if msg_type == "image" else _stranger_welcome)
    with translation.override(binding.language):
        parts = []
        refused = arrival_refusals_untold(resident_id=binding.resident_id)
        if refused:
            parts.append(_refusal_notice(refused))
        if msg_type == "image":
            parts.append(_photo(binding, fields))
        elif msg_type in OTHER_MEDIA:
            parts.append(_("Only a photo can be used here: send a photo of your new entry stamp."))
        elif event == "subscribe":
            parts.append(_("Welcome back!") + " " + _resident_help())
        else:
            parts.append(_resident_help())
        return "\n\n".join(parts)
