"""What a plot report may hold: the driver stays inside these bounds, the grader refuses
anything outside them.

The driver (`grader.kinds.plot.driver`) runs in the student's process, so what it sends is
only data; `grader.kinds.plot.kind` reads it against the same numbers. Standard library
only: the driver imports this in the sandbox child, the kind in the grader.
"""

from __future__ import annotations

import struct
import zlib

MAX_AXES = 16
MAX_SERIES = 64
"""Per axes: scatters and lines described; more are counted, not sent."""
MAX_POINTS = 20_000
"""All points of all series together."""
MAX_LEGEND = 50
"""Legend entries per axes."""
MAX_TEXT = 500
"""Characters of a title, an axis label, the type name of what the function returned."""
MAX_LABEL = 200
"""Characters of a series label or a legend entry."""
PNG_BYTES = 1_000_000
PNG_SIDE = 2000
"""Pixels of the PNG's width and of its height (the driver renders about 460×350)."""

_CHAR = 12
"""The most bytes one character takes in the report's JSON (an escaped surrogate pair)."""
RESULT_BYTES = (PNG_BYTES + 16 * MAX_POINTS + 64_000
                + MAX_AXES * (_CHAR * (3 * MAX_TEXT + MAX_LEGEND * MAX_LABEL) + MAX_SERIES * (_CHAR * MAX_LABEL + 400)))
"""The most an honest report takes (PNG, points with their .npy headers, every text at its
longest): a child that sends more is stopped."""

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def png_problem(data: bytes) -> str | None:
    """What keeps `data` from being a small, whole PNG, or None: the signature, the header
    (IHDR) first with both sides at most PNG_SIDE, every chunk whole with its checksum, IEND
    last, and image data that inflates to exactly the rows the header promises."""
    if len(data) > PNG_BYTES:
        return f"is {len(data):,} bytes (at most {PNG_BYTES:,})"
    if not data.startswith(SIGNATURE):
        return "does not start with the PNG signature"
    chunks, problem = _chunks(data)
    if problem:
        return problem
    if chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        return "does not begin with its header (IHDR)"
    width, height, depth, color, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if not (1 <= width <= PNG_SIDE and 1 <= height <= PNG_SIDE):
        return f"is {width}×{height} pixels (at most {PNG_SIDE}×{PNG_SIDE})"
    if depth not in _DEPTHS.get(color, ()) or compression or filtering or interlace:
        return "has a header unlike any PNG the grader draws"
    row = 1 + (width * _CHANNELS[color] * depth + 7) // 8
    inflate = zlib.decompressobj()
    try:
        pixels = inflate.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"), row * height + 1)
    except zlib.error:
        return "has image data that does not inflate"
    if len(pixels) != row * height or not inflate.eof or inflate.unused_data:
        return f"has image data for other than {width}×{height} pixels"
    if max(pixels[::row]) > 4:
        return "has a row with an unknown filter"
    return None


def _chunks(data: bytes) -> tuple[list[tuple[bytes, bytes]], str | None]:
    chunks: list[tuple[bytes, bytes]] = []
    offset = len(SIGNATURE)
    while offset < len(data):
        if offset + 12 > len(data):
            return chunks, "ends inside a chunk"
        length, kind = struct.unpack_from(">I4s", data, offset)
        end = offset + 12 + length
        if end > len(data):
            return chunks, "ends inside a chunk"
        body = data[offset + 8:end - 4]
        if zlib.crc32(kind + body) != struct.unpack_from(">I", data, end - 4)[0]:
            return chunks, f"has a chunk ({kind.decode('latin-1')!r}) whose checksum is wrong"
        chunks.append((kind, body))
        offset = end
        if kind == b"IEND":
            break
    if offset != len(data) or not chunks or chunks[-1][0] != b"IEND":
        return chunks, "does not end with IEND"
    return chunks, None
