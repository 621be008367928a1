"""What a passport photo's MRZ proved, and the constants of reading it."""

import dataclasses
import datetime
import logging
from pathlib import Path

from registration.constants import MrzNote

logger = logging.getLogger(__name__)

TESSERACT = "tesseract"
# Tesseract's language and tessdata folder: an LSTM model trained on the MRZ alphabet in
# OCR-B (registration/tessdata/README.md says where it comes from and why not "eng").
MODEL = ("mrz", Path(__file__).resolve().parent.parent / "tessdata")
WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
OCR_TIMEOUT_SECONDS = 8
READ_BUDGET_SECONDS = 25
GEOMETRY_SIDES = (900, 450)  # finding the band needs no more
TARGET_LINE_HEIGHT = 40  # pixels of a text line handed to Tesseract
VARIANTS = 3  # ways each band is cleaned for Tesseract (_variants)
MAX_BANDS = 4  # candidate bands read at most: a page of text has many look-alikes

# ICAO 9303 codes that are not ISO 3166 alpha-3. Germany is "D"; the British codes for
# other kinds of British nationality (GBD, GBN, GBO, GBP, GBS) and UN, stateless and refugee
# codes are left unmapped: the resident chooses.
ICAO_TO_ALPHA2 = {"D": "DE"}

_PERSON_FIELDS = ("surname", "given_names", "nationality", "sex", "date_of_birth")
FORM_FIELDS = (
    "surname",
    "given_names",
    "nationality",
    "sex",
    "date_of_birth",
    "document_number",
    "document_expiry",
    "document_type",
)


@dataclasses.dataclass(frozen=True)
class MrzReading:
    """What a photo's MRZ proved: form values (strings, ISO dates) and notes by code."""

    layout: str = ""
    fields: dict = dataclasses.field(default_factory=dict)
    notes: tuple = ()
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """Return whether every field the form takes from a passport was filled."""
        return all(name in self.fields for name in FORM_FIELDS)

    def form_initial(self) -> dict:
        """Return the fields as form initial values (dates as ``datetime.date``)."""
        initial = dict(self.fields)
        for name in ("date_of_birth", "document_expiry"):
            if name in initial:
                initial[name] = datetime.date.fromisoformat(initial[name])
        return initial

    def to_dict(self) -> dict:
        return {
            "layout": self.layout,
            "fields": dict(self.fields),
            "notes": list(self.notes),
            "seconds": round(self.seconds, 2),
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> "MrzReading":
        data = data or {}
        fields = {k: str(v) for k, v in (data.get("fields") or {}).items() if k in FORM_FIELDS}
        notes = tuple(n for n in data.get("notes") or () if n in MrzNote.values)
        return cls(
            layout=str(data.get("layout") or ""),
            fields=fields,
            notes=notes,
            seconds=float(data.get("seconds") or 0),
        )
