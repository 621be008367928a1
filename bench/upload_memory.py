"""
Peak memory of one registration-form request carrying the largest photos Linli accepts.

Runs on the test profile (a throw-away SQLite database, private files in a temporary
folder): the figure is Django's and Pillow's work on one request, whatever the database.
Each case runs in a fresh process (memory a process freed before is not counted twice,
nor hidden): it sends one POST of the review step with a photo in each of the form's photo
fields through Django's test client, the body encoded beforehand, and reports how far the
process's resident memory rose above where it stood before the request (Linux: the peak,
VmHWM, is reset through /proc/self/clear_refs). Pillow allocates image memory outside
Python's allocator, so tracemalloc would not see it; the kernel does.

    .venv/bin/python bench/upload_memory.py          # prints one JSON line per case

Cases: the worst decode (RGBA PNGs at exactly REGISTRATION_IMAGE_MAX_PIXELS, decoded whole),
JPEGs at the pixel limit (decoded at a reduced scale), and ordinary 12 MP phone photos.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.client import BOUNDARY, encode_multipart  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from PIL import Image  # noqa: E402

MB = 1024 * 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def peak_reset() -> int:
    """Reset the peak to the current resident memory; return it in kB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS")


def peak_kb() -> int:
    return _status_kb("VmHWM")


def png_at_limit(mode: str = "RGBA") -> bytes:
    """A real, decodable PNG of ``mode`` with exactly the allowed number of pixels."""
    side = math.isqrt(settings.REGISTRATION_IMAGE_MAX_PIXELS)
    channels = {"RGB": 3, "RGBA": 4}[mode]
    colour_type = {"RGB": 2, "RGBA": 6}[mode]

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    # Rows of a soft gradient, compressed as they are made: no full image in this process.
    compressor = zlib.compressobj(1)
    parts = []
    for y in range(side):
        shade = y * 255 // side
        row = bytes([0]) + bytes([shade, 128, 255 - shade, 255][:channels]) * side
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def jpeg_at_limit() -> bytes:
    """A JPEG at the pixel limit, close to the largest file allowed (noise where it fits)."""
    side = math.isqrt(settings.REGISTRATION_IMAGE_MAX_PIXELS)
    image = Image.linear_gradient("L").resize((side, side)).convert("RGB")
    noise = Image.effect_noise((side, side // 8), 60).convert("RGB")
    image.paste(noise, (0, 0))
    best = b""
    for quality in (95, 90, 85, 75, 60):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        best = buffer.getvalue()
        if len(best) <= settings.REGISTRATION_IMAGE_MAX_BYTES:
            break
    return best


def phone_jpeg() -> bytes:
    from bench.photos import phone_photo

    return phone_photo(seed=3)


def measure(client: Client, url: str, data: bytes, name: str, kinds) -> dict:
    files = {kind: SimpleUploadedFile(name, data) for kind in kinds}
    # The body is encoded before the measurement (the client's copy is not the server's);
    # an equal but new content-type string makes the test client send these bytes as they are.
    body = encode_multipart(BOUNDARY, files)
    content_type = "multipart/form-data; boundary=" + BOUNDARY
    del files
    client.cookies.clear()
    before = peak_reset()
    response = client.post(url, body, content_type=content_type, REMOTE_ADDR="192.0.2.1")
    peak = peak_kb()
    assert response.status_code in (200, 400), response.status_code
    errors = response.context["form"].errors.as_data() if response.context else {}
    refused = [kind for kind in kinds if kind in errors]
    assert not refused, f"photos refused: {refused}"
    return {
        "photos": len(kinds),
        "photo_bytes": len(data),
        "request_bytes": len(body),
        "peak_rise_mb": round((peak - before) / 1024, 1),
    }


def case_run(case: str, path: str) -> None:
    """Measure one case in this (fresh) process; print its JSON line."""
    from registration.constants import DocumentKind
    from tests.stations.factories import StationFactory

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        station = StationFactory(code="membench")
        url = f"/s/{station.code}/register/"
        client = Client()
        client.get(url)  # warm up: templates, translations, URL resolver
        data = Path(path).read_bytes()
        result = measure(client, url, data, Path(path).name, list(DocumentKind.values))
        line = {"case": case, "max_pixels": settings.REGISTRATION_IMAGE_MAX_PIXELS, **result}
        print(json.dumps(line), flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def main() -> None:
    import subprocess
    import tempfile

    makers = {
        "png_rgba_at_pixel_limit": (png_at_limit, "limit.png"),
        "jpeg_at_pixel_limit": (jpeg_at_limit, "limit.jpg"),
        "phone_jpeg_12mp": (phone_jpeg, "phone.jpg"),
    }
    with tempfile.TemporaryDirectory(prefix="linli-upload-memory-") as folder:
        for case, (make, name) in makers.items():
            path = Path(folder) / name
            path.write_bytes(make())
            subprocess.run(  # noqa: S603 - this script, with this interpreter
                [sys.executable, __file__, "--case", case, str(path)],
                check=True,
                stderr=subprocess.DEVNULL,
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--case"]:
        case_run(sys.argv[2], sys.argv[3])
    else:
        main()
