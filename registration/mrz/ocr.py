"""Read a band with Debian's tesseract, cleaned in a few independent ways."""

import datetime
import io
import logging
import os
import subprocess
import time

from PIL import Image, ImageChops, ImageFilter, ImageOps

from registration.constants import MrzNote
from registration.mrz.band import _Band
from registration.mrz.parse import _agree, _Candidate, _clean_lines, _parse, _Parsed
from registration.mrz.reading import (
    MODEL,
    OCR_TIMEOUT_SECONDS,
    TARGET_LINE_HEIGHT,
    TESSERACT,
    VARIANTS,
    WHITELIST,
    MrzReading,
)

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------
# Reading a band
# ------------------------------------------------------------------------------
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
