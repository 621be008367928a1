"""
Renderers of the layout, in top-left coordinates: ReportLab draws the PDF in points, Pillow
the PNG in pixels. Fonts, shaping and right-to-left ordering: ``stations.typesetting``.
"""

import io

from PIL import Image, ImageDraw
from reportlab.pdfgen.canvas import Canvas

from stations import typesetting
from stations.billboards.layout import INK, WHITE
from stations.qr import QUIET_ZONE, dark_runs


def pdf_font() -> str:
    """Register the main billboard font (Latin, Cyrillic, Chinese) and return its name."""
    return typesetting.pdf_font_register(typesetting.SC)


class PdfRenderer:
    def __init__(self, canvas: Canvas, width: float, height: float):
        self.canvas, self.width, self.height = canvas, width, height

    def measure(self, text: str, size: float, language: str) -> float:
        return typesetting.pdf_width(text, language, size)

    def text(self, x, baseline, text, size, language, *, bold=False, color=INK):
        c = self.canvas
        c.setFillColorRGB(*(v / 255 for v in color))
        if bold:  # one font file: bold is the outline stroked in the text colour
            c.setStrokeColorRGB(*(v / 255 for v in color))
            c.setLineWidth(size * 0.03)
        for run in typesetting.visual_runs(text, language):
            c.setFont(typesetting.pdf_font_register(run.font), size)
            c.drawString(x, self.height - baseline, run.text, mode=2 if bold else 0)
            x += c.stringWidth(run.text, run.font.name, size)

    def rect(self, x, top, width, height, color):
        self.canvas.setFillColorRGB(*(v / 255 for v in color))
        self.canvas.rect(x, self.height - top - height, width, height, stroke=0, fill=1)

    def qr(self, matrix, x, top, side):
        module = side / (len(matrix) + 2 * QUIET_ZONE)
        self.rect(x, top, side, side, WHITE)
        path = self.canvas.beginPath()
        for row, column, length in dark_runs(matrix):
            left = x + (column + QUIET_ZONE) * module
            y = self.height - top - (row + QUIET_ZONE + 1) * module
            path.rect(left, y, length * module, module)
        self.canvas.setFillColorRGB(0, 0, 0)
        self.canvas.drawPath(path, stroke=0, fill=1)


class PngRenderer:
    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.image = Image.new("RGB", (width, height), WHITE)
        self.draw = ImageDraw.Draw(self.image)

    def measure(self, text: str, size: float, language: str) -> float:
        return typesetting.pillow_width(text, language, max(1, round(size)))

    def text(self, x, baseline, text, size, language, *, bold=False, color=INK):
        size = max(1, round(size))
        for run in typesetting.visual_runs(text, language):
            font = typesetting.pillow_font(run.font, size)
            self.draw.text(
                (x, baseline),
                run.text,
                font=font,
                fill=color,
                anchor="ls",
                stroke_width=round(size * 0.03) if bold else 0,
                stroke_fill=color,
            )
            x += font.getlength(run.text)

    def rect(self, x, top, width, height, color):
        self.draw.rectangle([x, top, x + width - 1, top + height - 1], fill=color)

    def qr(self, matrix, x, top, side):
        total = len(matrix) + 2 * QUIET_ZONE
        module = max(1, int(side // total))  # whole pixels: crisp modules
        offset_x = round(x + (side - module * total) / 2) + QUIET_ZONE * module
        offset_y = round(top + (side - module * total) / 2) + QUIET_ZONE * module
        self.rect(round(x), round(top), round(side), round(side), WHITE)
        for row, column, length in dark_runs(matrix):
            left, row_top = offset_x + column * module, offset_y + row * module
            self.draw.rectangle(
                [left, row_top, left + length * module - 1, row_top + module - 1], fill=(0, 0, 0)
            )

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
