"""
A JPEG's metadata removed without re-encoding its pixels (``core.images`` decides when).

A photo shrunk on the phone (registration's photo-shrink.js) is already at the size the
server keeps; decoding and re-encoding it again costs CPU and a second loss of quality for
nothing. Here the file is rebuilt from an allow-list of segments instead: the frame header,
Huffman and quantisation tables, restart interval and the scans with their entropy-coded
data. Everything else goes: EXIF (GPS, camera, orientation), XMP, ICC profiles, JFIF,
comments, and any byte after the end-of-image marker (a second picture of an MPO, an
appended HTML page). A file with anything this parser does not know (arithmetic coding,
lossless or hierarchical frames, several frames, a truncated scan) gets ``None`` and is
re-encoded by the caller as before.
"""

# Kept: baseline, extended and progressive Huffman frames; Huffman tables; quantisation
# tables; restart interval. Dropped: APP0–APP15 and comments.
_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
_TABLES = frozenset({0xC4, 0xDB, 0xDD})
_DROPPED = frozenset({*range(0xE0, 0xF0), 0xFE})
_SOS, _EOI = 0xDA, 0xD9


def _scan_end(data: bytes, pos: int) -> int | None:
    """Return where the entropy-coded data starting at ``pos`` ends (its next marker)."""
    while True:
        index = data.find(b"\xff", pos)
        if index < 0 or index + 1 >= len(data):
            return None  # truncated: no marker after the scan
        following = data[index + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos = index + 2  # a stuffed 0xFF byte or a restart marker: still in the scan
        elif following == 0xFF:
            pos = index + 1  # fill bytes before a marker
        else:
            return index


def jpeg_without_metadata(data: bytes) -> bytes | None:
    """Return ``data`` rebuilt from its image segments only, or None if it cannot be."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out = [b"\xff\xd8"]
    pos, frames, scans, size = 2, 0, 0, len(data)
    while pos < size:
        if data[pos] != 0xFF:
            return None
        while pos < size and data[pos] == 0xFF:
            pos += 1
        if pos >= size:
            return None
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            if frames != 1 or not scans:
                return None
            out.append(b"\xff\xd9")
            return b"".join(out)  # whatever follows the end of the image is left behind
        if pos + 2 > size:
            return None
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > size:
            return None
        segment = data[pos - 2 : pos + length]
        pos += length
        if marker in _DROPPED:
            continue
        if marker in _FRAMES:
            frames += 1
            if frames > 1:
                return None
        elif marker == _SOS:
            if frames != 1:
                return None
            end = _scan_end(data, pos)
            if end is None:
                return None
            segment += data[pos:end]
            pos = end
            scans += 1
        elif marker not in _TABLES:
            return None
        out.append(segment)
    return None
