"""The codecs everyone uses, as baselines for notebook 08's learned codec: JPEG and WebP through Pillow, with their
bytes counted from the byte strings Pillow writes.

JPEG is counted two ways. A whole file (:func:`jpeg_file`) carries its own headers and tables: SOI, JFIF (APP0),
the quantisation table (DQT), the frame header (SOF0), four standard Huffman tables (DHT) and the scan header (SOS),
a few hundred bytes that a 28×28 image cannot amortise. With ``optimize=False`` (Pillow's default) the Huffman
tables are the standard ones of the JPEG specification (Annex K) and the quantisation table depends only on the
quality, so every image of a data set at one quality carries the *same* tables; a system that stores many such
images could share them once. :func:`jpeg_scan` keeps only what remains per image: the entropy-coded scan, the bytes
after the SOS header and before the EOI marker. That count is generous to JPEG: a real container would still need
each image's length.

WebP (:func:`webp_file`) is counted as whole files: its RIFF and VP8 headers are about 30 bytes.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def to_uint8(image) -> np.ndarray:
    """A greyscale image with pixels in [0, 1] as 8-bit integers (exact for data stored as 8-bit, as Fashion-MNIST)."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"one greyscale image (height, width) at a time; got shape {image.shape}.")
    if image.min() < 0 or image.max() > 1:
        raise ValueError(f"pixels must lie in [0, 1]; found [{image.min():g}, {image.max():g}].")
    return np.rint(image * 255).astype(np.uint8)


def jpeg_file(image, quality: int) -> bytes:
    """A whole baseline JPEG file of ``image`` at ``quality`` (1–95), standard Huffman tables (``optimize=False``)."""
    out = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(out, "JPEG", quality=int(quality), optimize=False)
    return out.getvalue()


def _segment_end(data: bytes, pos: int) -> int:
    return pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")


def jpeg_scan(data: bytes) -> bytes:
    """The entropy-coded scan of a baseline JPEG file: the bytes after the SOS segment and before the EOI marker.

    Walks the marker segments from SOI, so a byte pair ``FF DA`` inside a table is not mistaken for SOS. Raises
    ``ValueError`` on anything that is not one baseline scan ending in EOI (a progressive file has several)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file: it does not start with the SOI marker FF D8.")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError(f"expected a marker at byte {pos}, found {data[pos]:#04x}.")
        marker = data[pos + 1]
        if marker == 0xDA:  # SOS: the scan follows its header
            start = _segment_end(data, pos)
            if not data.endswith(b"\xff\xd9"):
                raise ValueError("the file does not end with the EOI marker FF D9.")
            scan = data[start:-2]
            if any(scan[i + 1] not in (0x00, *range(0xD0, 0xD8)) for i in range(len(scan) - 1) if scan[i] == 0xFF):
                raise ValueError("the scan holds another marker: more than one scan (a progressive JPEG?).")
            return scan
        pos = _segment_end(data, pos)
    raise ValueError("no SOS marker: the file holds no scan.")


def webp_file(image, quality: int, method: int = 6) -> bytes:
    """A lossy WebP file of ``image`` at ``quality`` (0–100); ``method=6`` is libwebp's slowest, best compression."""
    out = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(out, "WEBP", quality=int(quality), method=int(method))
    return out.getvalue()


def decode_file(data: bytes) -> np.ndarray:
    """A JPEG or WebP file -> the greyscale image as float32 in [0, 1]."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def sweep(images, codec: str, qualities) -> dict[int, dict]:
    """Every image through ``codec`` (``"jpeg"`` or ``"webp"``) at each quality: ``{quality: {"file_bytes",
    "scan_bytes" (JPEG only), "images"}}``, byte counts per image from the byte strings, images decoded back."""
    encode = {"jpeg": jpeg_file, "webp": webp_file}[codec]
    out = {}
    for q in qualities:
        files = [encode(image, q) for image in images]
        entry = {"file_bytes": np.array([len(f) for f in files]),
                 "images": np.stack([decode_file(f) for f in files])}
        if codec == "jpeg":
            entry["scan_bytes"] = np.array([len(jpeg_scan(f)) for f in files])
        out[q] = entry
    return out
