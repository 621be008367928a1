"""
Read the machine-readable zone (MRZ) of a photographed passport information page.

``passport_read(image=...)`` returns an ``MrzReading``: the form fields it could prove
(surname, given names, nationality, sex, date of birth, document number, expiry, document
type) and notes for the resident. It never raises, whatever it is given.

How a page is read
  1. The photo is opened through ``core.images.image_open`` (allowed formats, the
     pixel limit checked from the header) and made grey, at most REGISTRATION_IMAGE_MAX_SIDE
     (the stored photos' own limit) on its long side.
  2. The MRZ band is found without OCR: a black-hat filter keeps thin dark strokes (text,
     not the desk or the photo box), a projection profile finds whether text runs across
     or up the photo and its skew, and the two (TD3) or three (TD1) longest, evenly spaced,
     equally long text lines are the candidates.
  3. Each candidate is cut from the full-size photo, turned upright (0 or 180 degrees: the
     MRZ is the bottom of the page, so the more likely way is tried first), scaled to the
     size Tesseract reads best and cleaned in up to three ways (contrast-stretched grey;
     a threshold after flattening the light; smaller and median-filtered). Debian's
     ``tesseract`` reads each with a model trained for the MRZ (``tessdata/README.md``)
     and a whitelist of A-Z, 0-9 and ``<``.
  4. The text is parsed as TD3 (passport) or TD1 (card) with the ``mrz`` library, which
     verifies every check digit. A field is filled only if its check digit passes in two
     readings that agree and no reading contradicts; names, nationality and sex (no check
     digit of their own) only if every check digit of the line passes too, and the
     nationality is one the form lists. A document number ending in K is left empty: a
     filler ``<`` read as K passes the check digit. A value that cannot be proved is left
     for the resident to type; a card fills only the person, not the passport fields.

Where it runs
  Measured with ``make mrz-corpus`` on this project's 2-core machine while other work ran:
  a photographed passport page takes a median of about 1 s, p90 1.5 s, the worst about
  3 s (twice that when the machine is busy); a photo without an MRZ (a page of text,
  noise) 0.5-3 s, as every orientation and candidate band is tried. That would hold a gunicorn thread (4 per process, a 30 s
  timeout) far too long on a phone's slow upload path, and a time limit short enough for a
  request would cut off the hard pages that still read well. So the reading runs in the
  Celery task ``registration.tasks.passport_photo_read`` after the photo is stored, and the
  form page polls a small JSON endpoint (``registration.views_mrz``) every 1.5 s. The task
  is bounded all the same: each Tesseract call has a timeout (``OCR_TIMEOUT_SECONDS``), at
  most ``MAX_BANDS`` candidate bands are read, and the whole reading stops after
  ``READ_BUDGET_SECONDS``; Celery's own time limits stop the rest.
"""

import dataclasses
import datetime
import io
import logging
import shutil
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps

from core.images import image_open
from registration.constants import MrzNote
from registration.mrz.band import _bands
from registration.mrz.ocr import _read_band
from registration.mrz.parse import _Candidate
from registration.mrz.reading import (
    FORM_FIELDS,
    MAX_BANDS,
    OCR_TIMEOUT_SECONDS,
    READ_BUDGET_SECONDS,
    TESSERACT,
    MrzReading,
)

__all__ = [
    "FORM_FIELDS",
    "OCR_TIMEOUT_SECONDS",
    "READ_BUDGET_SECONDS",
    "MrzReading",
    "passport_read",
]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------
def passport_read(*, image, today: datetime.date | None = None) -> MrzReading:
    """
    Return what the MRZ of ``image`` (bytes, a file object or a PIL image) proves.

    Never raises: a file that is not an image, an image without an MRZ or a failure of
    Tesseract gives a reading without fields and a note saying why.
    """
    started = time.monotonic()
    try:
        reading = _read(image, today=today or datetime.date.today(), started=started)
    except Exception:  # a photo must never break the form
        logger.exception("passport reading failed")
        reading = MrzReading(notes=(MrzNote.NOT_FOUND.value,))
    return dataclasses.replace(reading, seconds=time.monotonic() - started)


def _read(image, *, today: datetime.date, started: float) -> MrzReading:
    gray = _open_gray(image)
    if gray is None:
        return MrzReading(notes=(MrzNote.NOT_AN_IMAGE.value,))
    if shutil.which(TESSERACT) is None:
        logger.error("tesseract is not installed: run bin/install-system-packages")
        return MrzReading(notes=(MrzNote.UNAVAILABLE.value,))
    deadline = started + READ_BUDGET_SECONDS
    best: _Candidate | None = None
    for number, band in enumerate(_bands(gray)):
        if time.monotonic() > deadline or number >= MAX_BANDS:
            break
        candidate = _read_band(band, today=today, deadline=deadline)
        if candidate is None:
            continue
        if best is None or candidate.score > best.score:
            best = candidate
        if best.reading.complete:
            break
    if best is None:
        return MrzReading(notes=(MrzNote.NOT_FOUND.value,))
    return best.reading


def _open_gray(image) -> Image.Image | None:
    """Return ``image`` upright, grey and at most the stored photos' side long, or None."""
    side = settings.REGISTRATION_IMAGE_MAX_SIDE
    if isinstance(image, Image.Image):
        opened = image
    else:
        data = io.BytesIO(image) if isinstance(image, bytes | bytearray) else image
        try:
            opened = image_open(data)
        except ValidationError:
            return None
    try:
        if opened.format in ("JPEG", "MPO"):
            opened.draft("L", (side, side))
        opened.load()
        opened = ImageOps.exif_transpose(opened)
        gray = opened.convert("L")
        gray.thumbnail((side, side), Image.Resampling.LANCZOS)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None
    if min(gray.size) < 40:
        return None
    return gray
