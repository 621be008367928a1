"""
Read the machine-readable zone (MRZ) of a photographed passport information page.

``passport_read(image=...)`` returns an ``MrzReading``: the form fields it could prove
(surname, given names, nationality, sex, date of birth, document number, expiry, document
type) and notes for the resident. It never raises, whatever it is given.

How a page is read
  1. The photo is opened through ``core.images.image_open`` (allowed formats, the
     pixel limit checked from the header) and made grey, at most 2000 px on its long side.
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
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django_countries import countries
from PIL import Image, ImageChops, ImageFilter, ImageOps

from core.images import image_open
from registration.constants import DocumentType, MrzNote, Sex

logger = logging.getLogger(__name__)

TESSERACT = "tesseract"
# Tesseract's language and tessdata folder: an LSTM model trained on the MRZ alphabet in
# OCR-B (registration/tessdata/README.md says where it comes from and why not "eng").
MODEL = ("mrz", Path(__file__).resolve().parent / "tessdata")
WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
OCR_TIMEOUT_SECONDS = 8
READ_BUDGET_SECONDS = 25
WORK_SIDE = 2000  # the stored photos' own limit (REGISTRATION_IMAGE_MAX_SIDE)
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
    """Return ``image`` upright, grey and at most WORK_SIDE pixels long, or None."""
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
            opened.draft("L", (WORK_SIDE, WORK_SIDE))
        opened.load()
        opened = ImageOps.exif_transpose(opened)
        gray = opened.convert("L")
        gray.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None
    if min(gray.size) < 40:
        return None
    return gray


# ------------------------------------------------------------------------------
# Finding the band
# ------------------------------------------------------------------------------
@dataclasses.dataclass
class _Band:
    """A candidate MRZ cut from the photo, upright if ``flip`` is right."""

    image: Image.Image
    lines: int
    flip_first: bool


def _text_mask(gray: Image.Image, side: int) -> Image.Image:
    """Return thin dark strokes (text) as white on black: a black-hat transform."""
    small = gray.copy()
    small.thumbnail((side, side), Image.Resampling.BILINEAR)
    # A median filter first: sensor noise in low light would otherwise pass for ink.
    small = ImageOps.autocontrast(small.filter(ImageFilter.MedianFilter(3)), cutoff=1)
    size = 7 if max(small.size) >= 600 else 5
    closed = small.filter(ImageFilter.MaxFilter(size)).filter(ImageFilter.MinFilter(size))
    hat = ImageChops.subtract(closed, small)
    histogram = hat.histogram()
    total = sum(histogram)
    # The strongest 1 % of responses set the scale; text is a good share of it.
    running, high = 0, 255
    for value in range(255, -1, -1):
        running += histogram[value]
        if running >= total * 0.01:
            high = value
            break
    threshold = max(18, round(high * 0.35))
    return hat.point(lambda v: 255 if v >= threshold else 0).filter(ImageFilter.MedianFilter(3))


def _profile_score(mask: Image.Image) -> float:
    rows = mask.reduce((mask.width, 1)).tobytes()
    return sum(v * v for v in rows) / max(1, len(rows))


def _skew(mask: Image.Image) -> tuple[float, float]:
    """Return (angle, sharpness) of the text lines of ``mask`` within +-8 degrees."""
    small = mask.copy()
    small.thumbnail((400, 400), Image.Resampling.BILINEAR)
    best = (0.0, -1.0)
    for step in range(-16, 17):
        angle = step * 0.5
        score = _profile_score(small.rotate(angle, resample=Image.Resampling.BILINEAR))
        if score > best[1]:
            best = (angle, score)
    return best


def _runs(mask: Image.Image, cell: int) -> list[tuple[int, int]]:
    """Return, for each row, the longest run (start, end) of inked cells (gaps of 1 allowed)."""
    grid = mask.reduce((cell, 1))
    width = grid.width
    data = grid.tobytes()
    runs = []
    for y in range(grid.height):
        row = data[y * width : (y + 1) * width]
        best = (0, 0)
        start = None
        gap = 0
        for x, value in enumerate(row):
            if value >= 60:
                if start is None:
                    start = x
                gap = 0
                end = x + 1
                if end - start > best[1] - best[0]:
                    best = (start, end)
            elif start is not None:
                gap += 1
                if gap > 1:
                    start = None
        runs.append(best)
    return runs


@dataclasses.dataclass
class _Line:
    top: int
    bottom: int
    left: int
    right: int

    @property
    def length(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def _text_lines(mask: Image.Image) -> list[_Line]:
    """Return the long text lines of an upright ``mask``, top to bottom."""
    cell = max(2, mask.width // 150)
    # Dilate: the strokes of a character and its neighbours become one blob per line.
    runs = _runs(mask.filter(ImageFilter.MaxFilter(5)), cell)
    longest = max((end - start for start, end in runs), default=0)
    if longest < 8:
        return []
    lines: list[_Line] = []
    current: _Line | None = None
    for y, (start, end) in enumerate(runs):
        if end - start >= max(8, longest * 0.45):
            start_px, end_px = start * cell, end * cell
            if (
                current is not None
                and y == current.bottom
                and start_px < current.right
                and end_px > current.left
            ):
                current.bottom = y + 1
                current.left = min(current.left, start_px)
                current.right = max(current.right, end_px)
                continue
            current = _Line(y, y + 1, start_px, end_px)
            lines.append(current)
        else:
            current = None
    return [line for line in lines if line.height >= 2]


def _mrz_groups(lines: list[_Line]) -> list[tuple[list[_Line], float]]:
    """Return groups of 2 or 3 lines shaped like an MRZ, best first, with their score."""
    groups = []
    for count in (2, 3):
        for i in range(len(lines) - count + 1):
            group = lines[i : i + count]
            lengths = [line.length for line in group]
            heights = [line.height for line in group]
            if min(lengths) < 0.8 * max(lengths):
                continue
            if abs(group[0].left - group[-1].left) > 0.08 * max(lengths):
                continue
            pitch = [b.middle - a.middle for a, b in zip(group, group[1:], strict=False)]
            mean_height = sum(heights) / count
            if any(p < 1.1 * mean_height or p > 3.5 * mean_height for p in pitch):
                continue
            if max(pitch) > 1.35 * min(pitch):
                continue
            # Characters about as tall as their pitch: 44 or 30 of them across the line.
            pitch_chars = max(lengths) / (44 if count == 2 else 30)
            if not 0.35 * pitch_chars <= mean_height <= 3.0 * pitch_chars:
                continue
            groups.append((group, float(sum(lengths))))
    groups.sort(key=lambda item: -item[1])
    return groups


def _bands(gray: Image.Image):
    """Yield candidate MRZ bands cut from ``gray``, most likely first."""
    # Text lines are found at a scale where characters are a few pixels apart; a photo
    # taken close up (large characters) is looked at again at half that scale.
    for side in GEOMETRY_SIDES:
        yield from _bands_at(gray, side)


def _separated(mask: Image.Image, group: list[_Line]) -> bool:
    """Return whether the lines of ``group`` have clear paper between them (noise has not)."""
    left = min(line.left for line in group)
    right = max(line.right for line in group)
    top, bottom = group[0].top, group[-1].bottom
    if right - left < 4 or bottom - top < 4:
        return False
    rows = mask.crop((left, top, right, bottom)).reduce((right - left, 1)).tobytes()
    inside = {y - top for line in group for y in range(line.top, line.bottom)}
    ink = [v for y, v in enumerate(rows) if y in inside]
    gaps = [v for y, v in enumerate(rows) if y not in inside]
    if not ink or not gaps:
        return False
    return sum(gaps) / len(gaps) < 0.35 * (sum(ink) / len(ink))


def _bands_at(gray: Image.Image, side: int):
    mask = _text_mask(gray, side)
    # Noise, fabric, gravel: ink everywhere is no page of text.
    if mask.reduce(mask.size).getpixel((0, 0)) > 0.2 * 255:
        return
    scale = gray.width / mask.width
    options = []
    for quarter in (0, 90):
        turned = mask if quarter == 0 else mask.transpose(Image.Transpose.ROTATE_90)
        angle, sharpness = _skew(turned)
        options.append((sharpness, quarter, angle, turned))
    options.sort(key=lambda item: -item[0])
    yielded = 0
    for _sharpness, quarter, angle, turned in options:
        upright = turned.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
        groups = [g for g in _mrz_groups(_text_lines(upright)) if _separated(upright, g[0])]
        if not groups:
            continue
        full = gray if quarter == 0 else gray.transpose(Image.Transpose.ROTATE_90)
        full = full.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
        for group, _score in groups[:2]:
            top = min(line.top for line in group)
            bottom = max(line.bottom for line in group)
            left = min(line.left for line in group)
            right = max(line.right for line in group)
            height = (bottom - top) / len(group)
            box = (
                max(0, round((left - 1.5 * height) * scale)),
                max(0, round((top - 0.8 * height) * scale)),
                min(full.width, round((right + 1.5 * height) * scale)),
                min(full.height, round((bottom + 0.8 * height) * scale)),
            )
            # The MRZ is the bottom of the page: a band high in the photo is upside down.
            flip_first = (top + bottom) / 2 < upright.height * 0.4
            yield _Band(image=full.crop(box), lines=len(group), flip_first=flip_first)
            yielded += 1
        if yielded >= 3:
            return


# ------------------------------------------------------------------------------
# Reading a band
# ------------------------------------------------------------------------------
@dataclasses.dataclass
class _Candidate:
    reading: MrzReading
    score: int


def _variants(band: Image.Image, lines: int):
    """Yield the band prepared in independent ways for Tesseract."""
    height = band.height / (lines + 1.6)
    factor = TARGET_LINE_HEIGHT / max(1.0, height)
    size = (max(1, round(band.width * factor)), max(1, round(band.height * factor)))
    scaled = band.resize(size, Image.Resampling.LANCZOS)
    stretched = ImageOps.autocontrast(scaled, cutoff=2)
    yield stretched.filter(ImageFilter.UnsharpMask(radius=2, percent=80, threshold=2))
    # A threshold at the middle between ink and paper, after flattening uneven light.
    background = stretched.filter(ImageFilter.MaxFilter(9)).filter(ImageFilter.BoxBlur(10))
    flat = ImageChops.invert(ImageChops.subtract(background, stretched))
    flat = ImageOps.autocontrast(flat, cutoff=1)
    yield flat.point(lambda v: 255 if v > 150 else 0)
    smaller = scaled.resize(
        (max(1, round(size[0] * 0.8)), max(1, round(size[1] * 0.8))), Image.Resampling.LANCZOS
    )
    yield ImageOps.autocontrast(smaller, cutoff=2).filter(ImageFilter.MedianFilter(3))


def _ocr(image: Image.Image, *, deadline: float) -> str:
    """Return Tesseract's text of ``image`` ('' on any failure or timeout)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0.5:
        return ""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    command = [
        TESSERACT,
        "stdin",
        "stdout",
        "--psm",
        "6",
        "--tessdata-dir",
        str(MODEL[1]),
        "-l",
        MODEL[0],
        "-c",
        f"tessedit_char_whitelist={WHITELIST}",
        "-c",
        "load_system_dawg=0",
        "-c",
        "load_freq_dawg=0",
    ]
    # One thread: two cores are shared with the web and other workers.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        completed = subprocess.run(  # noqa: S603 - fixed command, image on stdin
            command,
            input=buffer.getvalue(),
            capture_output=True,
            timeout=min(OCR_TIMEOUT_SECONDS, remaining),
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    if completed.returncode != 0:
        return ""
    return completed.stdout.decode("ascii", errors="ignore")


def _looks_like_mrz(text: str) -> bool:
    """Return whether OCR ``text`` has an MRZ's look (long lines with runs of '<')."""
    return any(len(line) >= 24 and "<<" in line for line in _clean_lines(text))


def _read_band(band: _Band, *, today: datetime.date, deadline: float) -> _Candidate | None:
    """Read ``band`` (upside down too) and return what its readings agree on."""
    orders = (True, False) if band.flip_first else (False, True)
    for flipped in orders:
        image = band.image.transpose(Image.Transpose.ROTATE_180) if flipped else band.image
        parsed: list[_Parsed] = []
        looked = False
        for number, variant in enumerate(_variants(image, band.lines)):
            if time.monotonic() > deadline:
                break
            text = _ocr(variant, deadline=deadline)
            looked = looked or _looks_like_mrz(text)
            if number == 0 and not looked:
                break  # no MRZ this way up: try the other way
            result = _parse(text, today=today)
            if result is not None:
                parsed.append(result)
            if len(parsed) + (VARIANTS - number - 1) < 2:
                break  # two readings can no longer agree
            agreed = _agree(parsed)
            if agreed is not None and agreed.reading.complete:
                return agreed
        agreed = _agree(parsed)
        if agreed is not None:
            return agreed
        if parsed:
            return _Candidate(
                reading=MrzReading(layout=parsed[0].layout, notes=(MrzNote.CHECK_FAILED.value,)),
                score=0,
            )
    return None


# ------------------------------------------------------------------------------
# Parsing and proving
# ------------------------------------------------------------------------------
@dataclasses.dataclass
class _Parsed:
    """One reading of an MRZ: the values whose checks passed, and notes."""

    layout: str
    values: dict
    notes: tuple


# Positions that hold digits only: a letter there is an OCR slip the check digit then judges.
_TO_DIGIT = str.maketrans(
    {
        "O": "0",
        "Q": "0",
        "D": "0",
        "U": "0",
        "I": "1",
        "L": "1",
        "Z": "2",
        "S": "5",
        "B": "8",
        "G": "6",
    }
)
_NOT_MRZ = re.compile(r"[^A-Z0-9<]")


def _clean_lines(text: str) -> list[str]:
    """Return the MRZ-like lines of OCR ``text``, without stray marks at their ends."""
    lines = []
    for raw in text.splitlines():
        tokens = [_NOT_MRZ.sub("", token) for token in raw.split()]
        tokens = [token for token in tokens if token]
        # A speck beside the band is read as a short token of its own.
        while len(tokens) > 1 and len(tokens[0]) <= 2:
            tokens.pop(0)
        while len(tokens) > 1 and len(tokens[-1]) <= 2:
            tokens.pop()
        line = "".join(tokens)
        if len(line) >= 20:
            lines.append(line)
    return lines


def _fit(line: str, length: int) -> str | None:
    """Return ``line`` at ``length`` characters by changing its longest run of fillers."""
    if len(line) == length:
        return line
    if abs(len(line) - length) > 6:
        return None
    runs = list(re.finditer(r"<{2,}", line))
    if not runs:
        return None
    longest = max(runs, key=lambda m: (m.end() - m.start(), m.start()))
    new_length = (longest.end() - longest.start()) + (length - len(line))
    if new_length < 1:
        return None
    return line[: longest.start()] + "<" * new_length + line[longest.end() :]


def _candidates(line: str, length: int) -> list[str]:
    """Return the ways ``line`` may be ``length`` characters long: filler runs, windows."""
    options = []
    fitted = _fit(line, length)
    if fitted is not None:
        options.append(fitted)
    if len(line) > length:
        options.extend(line[i : i + length] for i in range(len(line) - length + 1))
    elif len(line) < length and line.endswith("<"):
        options.append(line + "<" * (length - len(line)))
    return list(dict.fromkeys(options))


def _digits(value: str) -> str:
    return value.translate(_TO_DIGIT)


def _parse(text: str, *, today: datetime.date) -> "_Parsed | None":
    """Return the best TD3 or TD1 reading in OCR ``text``, or None."""
    lines = _clean_lines(text)
    for i in range(len(lines) - 1):
        first, second = lines[i], lines[i + 1]
        start = first.find("P")
        if 0 <= start <= 2 and 38 <= len(first) - start <= 50 and 38 <= len(second) <= 52:
            parsed = _parse_td3(first[start:], second, today=today)
            if parsed is not None:
                return parsed
    for i in range(len(lines) - 2):
        if all(24 <= len(line) <= 36 for line in lines[i : i + 3]):
            parsed = _parse_td1(*lines[i : i + 3], today=today)
            if parsed is not None:
                return parsed
    return None


def _names(identifier: str) -> tuple[str, str] | None:
    """Return (surname, given names) of an MRZ name field, or None if it looks misread."""
    stripped = identifier.rstrip("<")
    if not re.fullmatch(r"[A-Z]+(<[A-Z]+)*(<<[A-Z]+(<[A-Z]+)*)?", stripped):
        return None
    surname, _, given = stripped.partition("<<")
    return surname.replace("<", " "), given.replace("<", " ")


def _date(value: str, *, past: bool, today: datetime.date) -> datetime.date | None:
    """Return the date of YYMMDD ``value``: in the past for a birth, nearest to today else."""
    if not value.isdigit():
        return None
    year, month, day = int(value[0:2]), int(value[2:4]), int(value[4:6])
    candidates = []
    for century in (1900, 2000, 2100):
        try:
            candidates.append(datetime.date(century + year, month, day))
        except ValueError:
            return None
    if past:
        earlier = [d for d in candidates if d <= today]
        return max(earlier) if earlier else None
    return min(candidates, key=lambda d: abs((d - today).days))


def _nationality(code: str) -> str | None:
    """Return the ISO alpha-2 code the form lists for ICAO ``code``, or None."""
    code = code.replace("<", "")
    if code in ICAO_TO_ALPHA2:
        return ICAO_TO_ALPHA2[code]
    if len(code) != 3 or not code.isalpha():
        return None
    return countries.alpha2(code) or None


def _document_number(value: str) -> str | None:
    """Return the document number, or None if a '<' may have been read as a letter."""
    number = value.rstrip("<")
    if not number or "<" in number:
        return None
    # '<' counts 0 in a check digit, as K does: a trailing K may be a misread filler.
    if number.endswith("K"):
        return None
    return number


def _td3_checks(second: str):
    """Return the ``mrz`` library's checker of a TD3 whose first line does not matter."""
    from mrz.checker.td3 import TD3CodeChecker

    try:
        return TD3CodeChecker(f"P<UTO{'<' * 39}\n{second}")
    except (ValueError, IndexError):  # the library's errors are ValueErrors
        return None


def _passed(checker) -> tuple[bool, bool, bool, bool]:
    """Return (document number, birth, expiry, composite) check digits passed."""
    return (
        checker.document_number_hash,
        checker.birth_date_hash,
        checker.expiry_date_hash,
        checker.final_hash,
    )


def _number_variants(line: str) -> list[str]:
    """Return ``line`` with each mix of O and 0 in its document number (at most 3 of them)."""
    positions = [i for i in range(9) if line[i] in "O0"]
    if not positions or len(positions) > 3:
        return [line]
    variants = []
    for mask in range(2 ** len(positions)):
        chars = list(line)
        for bit, position in enumerate(positions):
            chars[position] = "0" if mask >> bit & 1 else "O"
        variants.append("".join(chars))
    return variants


def _td3_second_line(second: str) -> tuple[str, tuple] | None:
    """
    Return the second TD3 line as it most likely is, with its checks passed.

    Tried: fillers stretched or shrunk, windows of 44 characters, O and 0 swapped in the
    document number. Among readings where every check digit passes, all must be the same
    line; two different lines that both pass mean nothing is certain.
    """
    originals, complete = [], set()
    for line in _candidates(second, 44):
        line = (
            line[0:9]
            + _digits(line[9])
            + line[10:13]
            + _digits(line[13:20])
            + line[20]
            + _digits(line[21:28])
            + line[28:42]
            + _digits(line[42]).replace("K", "<")
            + _digits(line[43])
        )
        for variant in _number_variants(line):
            checker = _td3_checks(variant)
            if checker is None:
                continue
            passed = _passed(checker)
            if all(passed):
                complete.add(variant)
            if variant == line:
                originals.append((variant, passed))
    if len(complete) == 1:
        return complete.pop(), (True, True, True, True)
    if len(complete) > 1 or not originals:
        return None
    return max(originals, key=lambda item: sum(item[1]))


def _parse_td3(first: str, second: str, *, today: datetime.date) -> _Parsed | None:
    best = _td3_second_line(second)
    if best is None or not any(best[1]):
        return None
    second, (number_ok, birth_ok, expiry_ok, composite_ok) = best
    values: dict = {}
    notes: list[str] = []
    if number_ok and (number := _document_number(second[0:9])):
        values["document_number"] = number
    if birth_ok and (birth := _date(second[13:19], past=True, today=today)):
        values["date_of_birth"] = birth.isoformat()
    if expiry_ok and (expiry := _date(second[21:27], past=False, today=today)):
        values["document_expiry"] = expiry.isoformat()
    # Names, nationality and sex have no check digit: they count only when every check
    # digit of the line below passed, so the band was read well.
    if composite_ok and number_ok and birth_ok and expiry_ok:
        fitted = _td3_first_line(first)
        identifier = fitted[5:44] if fitted else ""
        values.update(_unchecked(identifier, second[10:13], second[20], notes))
        values["document_type"] = DocumentType.PASSPORT.value
    else:
        notes.append(MrzNote.CHECK_FAILED.value)
    return _Parsed("TD3", values, tuple(notes))


def _td3_first_line(first: str) -> str | None:
    """Return the first TD3 line at 44 characters, or None if its names cannot be trusted."""
    # A speck glued to the end of the filler: "...SMITH<<<<<<X".
    first = re.sub(r"(<{5,})[A-Z0-9]{1,2}$", r"\1", first) if len(first) > 44 else first
    if len(first) < 44 and first.endswith("<"):
        first += "<" * (44 - len(first))
    fitted = _fit(first, 44)
    if fitted is None or fitted[0] != "P":
        return None
    return fitted


def _parse_td1(first: str, second: str, third: str, *, today: datetime.date) -> _Parsed | None:
    from mrz.checker.td1 import TD1CodeChecker

    for line1 in _candidates(first, 30):
        for line2 in _candidates(second, 30):
            line2 = (
                _digits(line2[0:7])
                + line2[7]
                + _digits(line2[8:15])
                + line2[15:29]
                + _digits(line2[29])
            )
            line3 = _fit(third, 30) or (
                third + "<" * (30 - len(third)) if third.endswith("<") else None
            )
            if line3 is None:
                return None
            try:
                checker = TD1CodeChecker(f"{line1}\n{line2}\n{line3}")
            except (ValueError, IndexError):
                continue
            if not all(_passed(checker)):
                continue
            # A card's number and expiry are not the travel document's: only the person.
            notes = [MrzNote.NOT_A_PASSPORT.value]
            values: dict = {}
            if birth := _date(line2[0:6], past=True, today=today):
                values["date_of_birth"] = birth.isoformat()
            values.update(_unchecked(line3, line2[15:18], line2[7], notes))
            return _Parsed("TD1", values, tuple(notes))
    return None


def _unchecked(identifier: str, nationality: str, sex: str, notes: list) -> dict:
    """Return names, nationality and sex, which no check digit of their own covers."""
    values = {}
    names = _names(identifier) if identifier else None
    if names is not None and names[0]:
        values["surname"], given = names
        if given:
            values["given_names"] = given
    alpha2 = _nationality(nationality)
    if alpha2:
        values["nationality"] = alpha2
    elif re.fullmatch(r"[A-Z<]{3}", nationality):
        notes.append(MrzNote.NATIONALITY_NOT_LISTED.value)
    if sex == "M":
        values["sex"] = Sex.MALE.value
    elif sex == "F":
        values["sex"] = Sex.FEMALE.value
    elif sex in ("<", "X"):
        notes.append(MrzNote.SEX_NOT_LISTED.value)
    return values


def _agree(parsed: list[_Parsed]) -> _Candidate | None:
    """
    Return the values that two readings agree on and none contradicts.

    One reading proves nothing alone: a check digit cannot tell '<' from K, nor 6 from G.
    """
    if len(parsed) < 2:
        return None
    values: dict = {}
    for name in FORM_FIELDS:
        seen = [p.values[name] for p in parsed if name in p.values]
        if len(seen) >= 2 and len(set(seen)) == 1:
            values[name] = seen[0]
    layout = parsed[0].layout
    notes: list[str] = []
    for p in parsed:
        for note in p.notes:
            if note not in notes and note != MrzNote.CHECK_FAILED.value:
                notes.append(note)
    expected = FORM_FIELDS if layout == "TD3" else _PERSON_FIELDS
    explained = set()
    if MrzNote.NATIONALITY_NOT_LISTED.value in notes:
        explained.add("nationality")
    if MrzNote.SEX_NOT_LISTED.value in notes:
        explained.add("sex")
    # Some people have no given name: every reading found a surname and none a given name.
    if all("surname" in p.values and "given_names" not in p.values for p in parsed):
        explained.add("given_names")
    if any(name not in values and name not in explained for name in expected):
        notes.append(MrzNote.CHECK_FAILED.value)
    return _Candidate(
        reading=MrzReading(layout=layout, fields=values, notes=tuple(notes)), score=len(values)
    )
