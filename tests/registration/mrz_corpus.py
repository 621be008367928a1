"""
A generated corpus of photographed passport information pages, with their truth.

Every page is made from a seed (``page_make(seed=..., index=...)``): the same seed and index
give the same pixels on every machine with the same Pillow and fonts, so a failing page
can be made again and looked at. Nothing is committed: tests write pages into a temporary
folder or keep them in memory.

A page is a TD3 passport information page (125 x 88 mm) with a photo box, printed fields
and the two MRZ lines in OCR-B (Debian's ``fonts-ocr-b``), valid check digits made by the
``mrz`` library's generator; it lies on a desk, under another booklet page, and is
photographed: turned by 0/90/180/270 degrees and a few degrees of skew, blurred, lit by a
glare spot, under low light with sensor noise, and saved as JPEG of varied quality.

``python -m tests.registration.mrz_corpus OUT_DIR [COUNT] [SEED]`` writes pages and a
``truth.json`` to look at.
"""

import datetime
import io
import json
import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mrz.generator.td1 import TD1CodeGenerator
from mrz.generator.td3 import TD3CodeGenerator
from PIL import Image, ImageDraw, ImageFilter, ImageFont

OCR_B_PATHS = (
    "/usr/share/fonts/opentype/ocr-b/OCRB.otf",  # Debian's fonts-ocr-b
    "/usr/share/fonts/truetype/ocr-b/OCRB.ttf",
)
SANS_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
DEFAULT_SEED = 20261129

# ICAO 9303 codes of nationality and the ISO 3166 alpha-2 code the form stores; "D" is
# Germany's one-letter code. Weighted toward the station's residents.
NATIONALITIES = {
    "KOR": "KR",
    "D": "DE",
    "GBR": "GB",
    "USA": "US",
    "FRA": "FR",
    "RUS": "RU",
    "JPN": "JP",
    "NGA": "NG",
    "PAK": "PK",
    "IND": "IN",
    "YEM": "YE",
    "EGY": "EG",
    "CAN": "CA",
    "AUS": "AU",
    "AUT": "AT",
    "BRA": "BR",
    "VNM": "VN",
    "THA": "TH",
    "MNG": "MN",
    "KAZ": "KZ",
    "ITA": "IT",
    "ESP": "ES",
    "NLD": "NL",
    "UGA": "UG",
}
_SYLLABLE_TEXT = (
    "KIM LEE PARK CHOI JUNG KANG CHO YOON JANG LIM HAN OH SEO SHIN KWON HWANG AN SONG "
    "MUL LER SCHMI DT WAG NER BE CK SMI TH JOHN SON BROWN TAY LOR DU BOIS MAR TIN PE TROV "
    "IVA NOV SATO SUZU KI TANA KA OKO RO ADE BAYO KHAN ALI HUS SEIN AH MED NGU YEN TRAN "
    "BAT BOLD NUR LAN ROSS I BIAN CHI GAR CIA LO PEZ VAN DEN BERG MA RIA ANNA MIN JI"
)
SYLLABLES = tuple(_SYLLABLE_TEXT.split())
SEXES = ("M", "F")


@dataclass
class Passport:
    """The truth of one generated document: its MRZ lines and the form values they give."""

    lines: list[str]
    truth: dict
    layout: str = "TD3"


@dataclass
class Page:
    """One photographed page: JPEG bytes, the document's truth and how it was degraded."""

    index: int
    jpeg: bytes
    passport: Passport
    conditions: dict = field(default_factory=dict)


def _font(paths, size):
    for path in paths:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    raise RuntimeError(f"none of {paths} is installed: run bin/install-system-packages")


def _name(rng: random.Random, parts: int) -> str:
    words = []
    for _ in range(parts):
        words.append("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 2))))
    return " ".join(words)


def _date(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, (end - start).days))


def passport_make(rng: random.Random, *, layout: str = "TD3") -> Passport:
    """Return a random passport (or TD1 card) with valid check digits and its truth."""
    code = rng.choice(list(NATIONALITIES))
    sex = rng.choice(SEXES)
    birth = _date(rng, datetime.date(1945, 1, 1), datetime.date(2012, 12, 31))
    expiry = _date(rng, datetime.date(2027, 1, 1), datetime.date(2036, 12, 31))
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    length = rng.choice((9, 9, 9, 8, 7))
    number = rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + "".join(
        rng.choice(alphabet) for _ in range(length - 1)
    )
    surname = _name(rng, rng.choice((1, 1, 1, 2)))
    given = _name(rng, rng.choice((1, 1, 2, 2, 3)))
    if layout == "TD1":
        while len(surname) + len(given) + 2 > 30:
            given = given.rsplit(" ", 1)[0] if " " in given else given[:10]
        generated = TD1CodeGenerator(
            "ID",
            code,
            number,
            birth.strftime("%y%m%d"),
            sex,
            expiry.strftime("%y%m%d"),
            code,
            surname,
            given,
        )
        lines = str(generated).splitlines()
    else:
        optional = rng.choice(("", "", "".join(rng.choice("0123456789") for _ in range(10))))
        generated = TD3CodeGenerator(
            "P",
            code,
            surname,
            given,
            number,
            code,
            birth.strftime("%y%m%d"),
            sex,
            expiry.strftime("%y%m%d"),
            optional,
        )
        lines = str(generated).splitlines()
    truth = {
        "surname": surname,
        "given_names": given,
        "nationality": NATIONALITIES[code],
        "sex": {"M": "male", "F": "female"}[sex],
        "date_of_birth": birth,
        "document_number": number,
        "document_expiry": expiry,
        "document_type": "passport" if layout == "TD3" else "other",
    }
    return Passport(lines=lines, truth=truth, layout=layout)


def _guilloche(draw, box, rng, colour):
    x0, y0, x1, y1 = box
    for k in range(14):
        phase, amp, freq = rng.random() * 6, 4 + rng.random() * 10, 0.01 + rng.random() * 0.03
        y = y0 + (y1 - y0) * (k + 0.5) / 14
        points = [(x, y + amp * math.sin(phase + freq * (x - x0))) for x in range(x0, x1, 6)]
        draw.line(points, fill=colour, width=1)


def page_render(passport: Passport, rng: random.Random, *, scale: float) -> Image.Image:
    """Draw the information page at ``scale`` pixels per millimetre."""
    width_mm, height_mm = (125, 88) if passport.layout == "TD3" else (85.6, 54)
    width, height = round(width_mm * scale), round(height_mm * scale)
    tint = tuple(rng.randint(225, 250) for _ in range(3))
    page = Image.new("RGB", (width, height), tint)
    draw = ImageDraw.Draw(page)
    _guilloche(draw, (0, 0, width, round(height * 0.7)), rng, tuple(c - 25 for c in tint))
    small = _font(SANS_PATHS, max(8, round(2.0 * scale)))
    value = _font(SANS_PATHS[1:], max(9, round(2.8 * scale)))
    truth = passport.truth
    if passport.layout == "TD3":
        draw.text((6 * scale, 3 * scale), "PASSPORT  PASSEPORT", font=value, fill=(40, 40, 90))
        photo = (6 * scale, 16 * scale, 38 * scale, 56 * scale)
        draw.rectangle(photo, fill=tuple(rng.randint(120, 200) for _ in range(3)))
        cx, cy = (photo[0] + photo[2]) / 2, (photo[1] + photo[3]) / 2
        draw.ellipse(
            (cx - 9 * scale, cy - 13 * scale, cx + 9 * scale, cy + 9 * scale), fill=(90, 70, 60)
        )
        fields = [
            ("Type / Type", "P"),
            ("Surname / Nom", truth["surname"]),
            ("Given names / Prénoms", truth["given_names"]),
            ("Nationality / Nationalité", passport.lines[0][2:5].replace("<", "")),
            (
                "Date of birth / Date de naissance",
                truth["date_of_birth"].strftime("%d %b %Y").upper(),
            ),
            ("Sex / Sexe", passport.lines[1][20]),
            (
                "Date of expiry / Date d'expiration",
                truth["document_expiry"].strftime("%d %b %Y").upper(),
            ),
        ]
        y = 14 * scale
        for label, text in fields:
            draw.text((42 * scale, y), label, font=small, fill=(70, 70, 110))
            draw.text((42 * scale, y + 2.4 * scale), text, font=value, fill=(20, 20, 20))
            y += 6.2 * scale
        draw.text((95 * scale, 9 * scale), "Passport No.", font=small, fill=(70, 70, 110))
        draw.text(
            (95 * scale, 11.5 * scale), truth["document_number"], font=value, fill=(150, 20, 20)
        )
        pitch, left, first_line, line_gap = 2.54, 6.0, height_mm - 13.0, 4.6
    else:
        draw.text((4 * scale, 3 * scale), "RESIDENCE PERMIT", font=value, fill=(40, 40, 90))
        pitch, left, first_line, line_gap = 2.54, 4.0, height_mm - 17.5, 4.6
    ocr = _font(OCR_B_PATHS, round(pitch * scale / 0.7231))
    for number, line in enumerate(passport.lines):
        draw.text(
            (left * scale, (first_line + number * line_gap) * scale),
            line,
            font=ocr,
            fill=(15, 15, 15),
        )
    return page


def _noise(rng, size, spread: float) -> Image.Image:
    """Return grey noise around 128 made from ``rng`` (Pillow's own noise is not seeded)."""
    small = (max(1, size[0] // 2), max(1, size[1] // 2))
    noise = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    lut = [max(0, min(255, round(128 + (v - 127.5) * spread / 128))) for v in range(256)]
    return noise.point(lut).resize(size, Image.Resampling.BILINEAR).convert("RGB")


def _desk(rng, size):
    base = tuple(rng.randint(40, 170) for _ in range(3))
    desk = Image.new("RGB", size, base)
    return Image.blend(desk, _noise(rng, size, rng.randint(10, 40)), 0.15)


def _soft_mask(size, rng, shape) -> Image.Image:
    """Return a blurred ellipse mask; drawn at 1/8 scale, where blurring is cheap."""
    small = (max(1, size[0] // 8), max(1, size[1] // 8))
    mask = Image.new("L", small, 0)
    x0, y0, x1, y1 = (v / 8 for v in shape)
    ImageDraw.Draw(mask).ellipse((x0, y0, x1, y1), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, (x1 - x0) / 5)))
    return mask.resize(size, Image.Resampling.BILINEAR)


def _glare(image, rng, *, over_mrz: bool, mrz_box) -> Image.Image:
    """Return ``image`` under a bright reflection, on the MRZ or elsewhere on the page."""
    width, height = image.size
    if over_mrz:
        cx = rng.uniform(mrz_box[0], mrz_box[2])
        cy = rng.uniform(mrz_box[1], mrz_box[3])
    else:
        cx, cy = rng.uniform(0, width), rng.uniform(0, height * 0.6)
    radius = rng.uniform(0.05, 0.16) * max(width, height)
    mask = _soft_mask(
        image.size, rng, (cx - radius, cy - radius * 0.6, cx + radius, cy + radius * 0.6)
    )
    strength = rng.uniform(0.3, 0.9)
    mask = mask.point(lambda v: round(v * strength))
    return Image.composite(Image.new("RGB", image.size, (255, 255, 250)), image, mask)


def _shadow(image, rng) -> Image.Image:
    """Return ``image`` with the shadow of a hand or phone over one side."""
    width, height = image.size
    cx, cy = rng.choice((0, width)), rng.uniform(0, height)
    radius = rng.uniform(0.3, 0.6) * max(width, height)
    mask = _soft_mask(image.size, rng, (cx - radius, cy - radius, cx + radius, cy + radius))
    darkness = rng.uniform(0.25, 0.6)
    mask = mask.point(lambda v: round(v * darkness))
    return Image.composite(Image.new("RGB", image.size, (10, 10, 10)), image, mask)


def _keystone(image, rng, fill) -> Image.Image:
    """Return ``image`` as photographed at a slant: its corners pulled in unevenly."""
    width, height = image.size
    pull = [rng.uniform(0, 0.06) for _ in range(8)]
    quad = (
        -pull[0] * width, -pull[1] * height,
        -pull[2] * width, height * (1 + pull[3]),
        width * (1 + pull[4]), height * (1 + pull[5]),
        width * (1 + pull[6]), -pull[7] * height,
    )  # fmt: skip
    return image.transform(
        image.size, Image.Transform.QUAD, quad, resample=Image.Resampling.BICUBIC, fillcolor=fill
    )


def page_make(*, seed: int = DEFAULT_SEED, index: int, layout: str = "TD3") -> Page:
    """Return page ``index`` of the corpus of ``seed``: a photographed passport page."""
    rng = random.Random(f"{seed}:{index}")
    passport = passport_make(rng, layout=layout)
    scale = rng.uniform(8.0, 13.0)
    page = page_render(passport, rng, scale=scale)
    # The booklet: the facing page above the information page, then the desk around it.
    facing = Image.new(
        "RGB", (page.width, round(page.height * rng.uniform(0.3, 1.0))), (236, 232, 222)
    )
    fdraw = ImageDraw.Draw(facing)
    sans = _font(SANS_PATHS, max(8, round(2.2 * scale)))
    for k in range(rng.randint(0, 5)):
        fdraw.text(
            (8 * scale, (5 + 7 * k) * scale),
            "OBSERVATIONS  AMENDMENTS",
            font=sans,
            fill=(110, 100, 90),
        )
    booklet = Image.new("RGB", (page.width, facing.height + page.height), (236, 232, 222))
    booklet.paste(facing, (0, 0))
    booklet.paste(page, (0, facing.height))
    margin_x, margin_y = (round(page.width * rng.uniform(0.03, 0.25)) for _ in range(2))
    canvas = _desk(rng, (booklet.width + 2 * margin_x, booklet.height + 2 * margin_y))
    canvas.paste(booklet, (margin_x, margin_y))
    lines_top = facing.height + page.height - round((13.0 + 2.5) * scale)
    mrz_box = (
        margin_x,
        margin_y + lines_top,
        margin_x + page.width,
        margin_y + facing.height + page.height,
    )

    # Degrade at the photo's final size: a phone photo as the server keeps it (<= 2000 px).
    longest = rng.randint(1200, 2000)
    shrink = min(1.0, longest / max(canvas.size))
    canvas = canvas.resize(
        (round(canvas.width * shrink), round(canvas.height * shrink)), Image.Resampling.LANCZOS
    )
    mrz_box = tuple(round(v * shrink) for v in mrz_box)
    conditions = {"scale": round(scale * shrink, 2)}
    if rng.random() < 0.4:
        conditions["glare"] = "mrz" if rng.random() < 0.35 else "page"
        canvas = _glare(canvas, rng, over_mrz=conditions["glare"] == "mrz", mrz_box=mrz_box)
    if rng.random() < 0.2:
        conditions["shadow"] = True
        canvas = _shadow(canvas, rng)
    fill = canvas.getpixel((2, 2))
    if rng.random() < 0.3:
        conditions["keystone"] = True
        canvas = _keystone(canvas, rng, fill)
    quarter = rng.choice((0, 0, 0, 90, 180, 270))
    skew = rng.uniform(-4.0, 4.0)
    conditions["rotation"] = quarter
    conditions["skew"] = round(skew, 2)
    canvas = canvas.rotate(
        quarter + skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill
    )
    light = rng.choice((1.0, 1.0, rng.uniform(0.25, 0.9)))
    if light < 1.0:
        conditions["light"] = round(light, 2)
        canvas = canvas.point(lambda v: round(255 * ((v / 255) ** 1.15) * light))
        canvas = Image.blend(canvas, _noise(rng, canvas.size, rng.uniform(40, 120)), 0.12)
    blur = rng.choice((0.0, 0.0, rng.uniform(0.4, 2.2)))
    if blur:
        conditions["blur"] = round(blur, 2)
        canvas = canvas.filter(ImageFilter.GaussianBlur(blur))
    canvas.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    quality = rng.randint(25, 95)
    conditions["jpeg_quality"] = quality
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=quality)
    return Page(index=index, jpeg=out.getvalue(), passport=passport, conditions=conditions)


def corpus(*, count: int, seed: int = DEFAULT_SEED, start: int = 0):
    """Yield pages ``start`` .. ``start + count - 1`` of the corpus of ``seed``."""
    for index in range(start, start + count):
        yield page_make(seed=seed, index=index)


def main(argv: list[str]) -> int:
    out = Path(argv[1])
    count = int(argv[2]) if len(argv) > 2 else 20
    seed = int(argv[3]) if len(argv) > 3 else DEFAULT_SEED
    out.mkdir(parents=True, exist_ok=True)
    truth = {}
    for page in corpus(count=count, seed=seed):
        name = f"page-{page.index:04d}.jpg"
        (out / name).write_bytes(page.jpeg)
        truth[name] = {
            "lines": page.passport.lines,
            "conditions": page.conditions,
            "truth": {k: str(v) for k, v in page.passport.truth.items()},
        }
    (out / "truth.json").write_text(json.dumps(truth, indent=2))
    print(f"{count} pages in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))


def clean_photo(seed: int = 2026) -> tuple[bytes, dict]:
    """Return a sharp, upright photo of a passport page and its form values as strings."""
    rng = random.Random(seed)
    passport = passport_make(rng)
    page = page_render(passport, rng, scale=10)
    canvas = Image.new("RGB", (page.width + 100, page.height + 300), (80, 70, 60))
    canvas.paste(page, (50, 250))
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=88)
    truth = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in passport.truth.items()}
    return out.getvalue(), truth
