"""Find the MRZ band in a photo without OCR: strokes, profile, skew, evenly spaced lines."""

import dataclasses
import logging

from PIL import Image, ImageChops, ImageFilter, ImageOps

from registration.mrz.reading import GEOMETRY_SIDES

logger = logging.getLogger(__name__)


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
