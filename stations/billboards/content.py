"""
What a billboard says, in each language its station chose (``Station.billboard_languages``),
each text rendered inside ``translation.override`` and tagged with its language.
"""

from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _

from stations.constants import BillboardPurpose, QrTarget
from stations.qr import qr_matrix, station_url


class Said(str):
    """A text of the billboard and the language it is in (fonts, direction, alignment)."""

    language: str

    def __new__(cls, text: str, language: str):
        said = super().__new__(cls, text)
        said.language = language
        return said


@dataclass
class QrSpec:
    url: str
    captions: list[str]
    large: bool = True

    @property
    def matrix(self):
        return qr_matrix(self.url)


@dataclass
class BillboardContent:
    code: str
    headlines: list[str]
    names: list[str]
    rules: list[str]
    qrs: list[QrSpec]
    info: list[str]
    footer: list[str]
    emergency: list[str] = field(default_factory=list)


def _headline(purpose: str) -> str:
    # Literal msgids so that makemessages finds them.
    return {
        BillboardPurpose.BOTH: _("Scan to register your stay · Ask for help"),
        BillboardPurpose.REGISTER: _("Scan to register your stay"),
        BillboardPurpose.HELP: _("Scan to ask for help"),
        BillboardPurpose.STATION: _(
            "Scan to open the station page: register your stay, ask for help"
        ),
    }[BillboardPurpose(purpose)]


def _caption(target: str) -> str:
    return {
        QrTarget.STATION: _("Station page: register, update, ask for help"),
        QrTarget.REGISTER: _("Register my stay"),
        QrTarget.HELP: _("Ask for help"),
    }[QrTarget(target)]


def _unique(items: list[str]) -> list[str]:
    seen, result = set(), []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            result.append(item)
    return result


def _ltr(value: str) -> str:
    # A phone number or code inside a right-to-left sentence keeps its own order: the
    # bidi algorithm would otherwise reverse its groups ("+86 20 1234" as "1234 20 +86").
    return f"\u2066{value}\u2069"  # LEFT-TO-RIGHT ISOLATE … POP DIRECTIONAL ISOLATE


def billboard_content(
    station, purpose: str = BillboardPurpose.BOTH, languages: list[str] | None = None
) -> BillboardContent:
    """Gather everything a billboard of ``station`` says, in each of its billboard languages."""
    purpose = BillboardPurpose(purpose)
    if languages is None:
        languages = station.billboard_language_codes()
    headlines, names, rules, info, footer, emergency = [], [], [], [], [], []
    targets = {
        BillboardPurpose.BOTH: [QrTarget.REGISTER, QrTarget.HELP],
        BillboardPurpose.STATION: [QrTarget.STATION],
        BillboardPurpose.REGISTER: [QrTarget.REGISTER],
        BillboardPurpose.HELP: [QrTarget.HELP],
    }[purpose]
    captions: dict[str, list[str]] = {target: [] for target in targets}
    for language in languages:
        with translation.override(language):

            def said(value: str, language=language) -> Said:
                return Said(value, language)

            text = station.text(language)
            headlines.append(said(_headline(purpose)))
            names.append(Said(text.name, text.language) if text else said(station.code))
            rules.append(
                said(_("Foreign residents register their stay within 24 hours of arrival."))
            )
            for target in targets:
                captions[target].append(said(_caption(target)))
            if text and text.address:
                address = " ".join(text.address.split())
                info.append(Said(_("Address: %(address)s") % {"address": address}, language))
            if text and text.opening_hours:
                hours = "; ".join(
                    line.strip() for line in text.opening_hours.splitlines() if line.strip()
                )
                info.append(said(_("Opening hours: %(hours)s") % {"hours": hours}))
            contact = []
            if station.phone:
                contact.append(_("Phone: %(phone)s") % {"phone": _ltr(station.phone)})
            if station.wechat_id:
                contact.append(_("WeChat: %(wechat_id)s") % {"wechat_id": _ltr(station.wechat_id)})
            if contact:
                info.append(said(" · ".join(contact)))
            footer.append(said(_("Station code: %(code)s") % {"code": _ltr(station.code)}))
            emergency.append(
                said(
                    _(
                        "Emergency: police 110 · fire 119 · ambulance 120 · city hotline 12345 · immigration 12367"
                    )
                )
            )
    qrs = [
        QrSpec(
            url=station_url(station.code, target),
            captions=_unique(captions[target]),
            large=(index == 0),
        )
        for index, target in enumerate(targets)
    ]
    return BillboardContent(
        code=station.code,
        headlines=_unique(headlines),
        names=_unique(names),
        rules=_unique(rules),
        qrs=qrs,
        info=_unique(info),
        footer=_unique(footer),
        emergency=_unique(emergency),
    )
