"""Decode QR codes the way a phone would: with zxing-cpp, from PNG, SVG or a rendered PDF."""

import io
import re

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageDraw


def decode_png(content: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))]


def svg_to_image(content: bytes, scale: int = 8) -> Image.Image:
    """Paint the SVG's ``M x y h n v1 h-n z`` rectangles (our SVGs are just that) to pixels."""
    text = content.decode()
    side = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', text).group(1))
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, length in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", text):
        x, y, length = int(x), int(y), int(length)
        draw.rectangle(
            [x * scale, y * scale, (x + length) * scale - 1, (y + 1) * scale - 1], fill=0
        )
    return image


def decode_svg(content: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(svg_to_image(content))]


def pdf_pages(content: bytes):
    return pdfium.PdfDocument(content)


def decode_pdf_page(page, scale: float = 2.0) -> list[str]:
    image = page.render(scale=scale).to_pil()
    return sorted(result.text for result in zxingcpp.read_barcodes(image))
