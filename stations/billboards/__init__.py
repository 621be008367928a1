"""
Printable billboards (vector PDF in A4, A3, A2) and the WeChat poster (PNG, 1080×1920).

One layout draws both, through a small renderer interface (ReportLab for the PDF, Pillow for
the PNG). Every text appears in **each language the station chose** for its billboards
(``Station.billboard_languages``, each rendered inside ``translation.override``), and every
text block is shrunk to fit its own rectangle, so nothing overflows or collides, whatever
the languages or the length of a name. A paragraph in a right-to-left language is aligned
to the right. Fonts, shaping and right-to-left ordering: ``stations.typesetting``; the fonts
are embedded (subset) in every PDF, so every script prints on any printer.

One module per job; callers import from here:

- ``content``: what a billboard says, in every language;
- ``layout``: where each text goes and at what size (fitting, wrapping, cutting);
- ``renderers``: drawing the layout with ReportLab (PDF) or Pillow (PNG);
- ``files``: the PDF and the poster, cached under a fingerprint of what they show.
"""

from stations.billboards.content import BillboardContent, QrSpec, Said, billboard_content
from stations.billboards.files import (
    LAYOUT_VERSION,
    PAGE_SIZES,
    Built,
    billboard_file,
    build_pdf,
    build_poster,
    catalogue_digest,
    station_fingerprint,
)
from stations.billboards.layout import Para, Region, draw_billboard, fit_block, wrap
from stations.billboards.renderers import PdfRenderer, PngRenderer, pdf_font

__all__ = [
    "LAYOUT_VERSION",
    "PAGE_SIZES",
    "BillboardContent",
    "Built",
    "Para",
    "PdfRenderer",
    "PngRenderer",
    "QrSpec",
    "Region",
    "Said",
    "billboard_content",
    "billboard_file",
    "build_pdf",
    "build_poster",
    "catalogue_digest",
    "draw_billboard",
    "fit_block",
    "pdf_font",
    "station_fingerprint",
    "wrap",
]
