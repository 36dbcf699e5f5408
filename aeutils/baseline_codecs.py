"""The codecs everyone uses, as baselines for notebook 08's learned codec: JPEG and WebP through Pillow, with their
bytes counted from the byte strings Pillow writes.

JPEG is counted two ways. A whole file (:func:`jpeg_file`) carries its own headers and tables: SOI, JFIF (APP0),
the quantisation table (DQT), the frame header (SOF0), the standard Huffman tables (DHT: for one greyscale component,
one DC and one AC table) and the scan header (SOS), a few hundred bytes that a 28×28 image cannot amortise. With
``optimize=False`` (Pillow's default) the Huffman tables are the standard ones of the JPEG specification (Annex K)
and the quantisation table depends only on the quality, so every image of a data set at one quality carries the
*same* headers (:func:`sweep` checks this, image by image); a system that stores many such images could share them
once. :func:`jpeg_scan` keeps only what remains per image: the entropy-coded scan, the bytes after the SOS header and
before the EOI marker (a real container would still need each image's length). With ``optimize=True`` libjpeg
computes Huffman tables fitted to each image: the scan is shorter, the pixels are the same, but the tables are no
longer shared, so the optimised scan alone is a lower bracket on what JPEG's *Huffman* coding could cost
(JPEG's arithmetic-coding mode would be smaller still; Pillow does not expose it).

WebP (:func:`webp_file`) is counted two ways as well. A whole lossy file is a RIFF header (``RIFF``, a size,
``WEBP``: 12 bytes), a ``VP8 `` chunk header (tag and size: 8 bytes), and the VP8 key frame: a 3-byte frame tag (it
holds the first partition's size), a 7-byte start code and image size, then the compressed partitions.
:func:`webp_payload` drops the 27 bytes that are the same for every image of one size, or that only restate the
file's length (:func:`sweep` checks both): what remains is the frame tag and the partitions.
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


def jpeg_file(image, quality: int, optimize: bool = False) -> bytes:
    """A whole baseline JPEG file of ``image`` at ``quality`` (1–95): standard Huffman tables (``optimize=False``),
    or tables fitted to the image (``optimize=True``, same pixels, fewer bytes)."""
    out = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(out, "JPEG", quality=int(quality), optimize=bool(optimize))
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


def webp_payload(data: bytes) -> bytes:
    """The per-image part of a simple lossy WebP file: the VP8 frame tag and the compressed partitions, without the
    RIFF and chunk headers (tags and sizes that restate the file's length) and without the start code and image size.

    Raises ``ValueError`` on a file that is not one ``VP8 `` key frame (an extended or lossless WebP)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP file: it does not start with RIFF....WEBP.")
    if data[12:16] != b"VP8 ":
        raise ValueError(f"not a simple lossy WebP: the first chunk is {data[12:16]!r}, not b'VP8 '.")
    size = int.from_bytes(data[16:20], "little")
    if int.from_bytes(data[4:8], "little") != len(data) - 8 or 20 + size + (size & 1) != len(data):
        raise ValueError("the RIFF or chunk size does not match the file's length.")
    frame = data[20:20 + size]
    if frame[3:6] != b"\x9d\x01\x2a":
        raise ValueError("the VP8 frame does not start with the key-frame start code 9D 01 2A.")
    return frame[:3] + frame[10:]


def _check_identical(dropped: list[bytes]) -> bytes:
    """Check that the bytes a count drops are identical for every file; return them."""
    dropped = set(dropped)
    if len(dropped) != 1:
        raise ValueError(f"the dropped bytes differ between images ({len(dropped)} variants): they cannot be shared.")
    return dropped.pop()


def decode_file(data: bytes) -> np.ndarray:
    """A JPEG or WebP file -> the greyscale image as float32 in [0, 1]."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def sweep(images, codec: str, qualities) -> dict[int, dict]:
    """Every image through ``codec`` (``"jpeg"`` or ``"webp"``) at each quality, byte counts per image from the
    byte strings, images decoded back: ``{quality: {"file_bytes", "images", ...}}`` with, for JPEG, ``"scan_bytes"``
    (standard tables) and ``"opt_scan_bytes"`` (tables fitted per image), and for WebP ``"payload_bytes"``.

    Checks, at each quality, that the bytes a shared count drops are identical for every image (JPEG: everything
    but the scan; WebP: the tags, start code and image size, the size fields being checked against the length),
    and that JPEG's optimised files decode to the same pixels. Raises ``ValueError`` otherwise."""
    encode = {"jpeg": jpeg_file, "webp": webp_file}[codec]
    out = {}
    for q in qualities:
        files = [encode(image, q) for image in images]
        entry = {"file_bytes": np.array([len(f) for f in files]),
                 "images": np.stack([decode_file(f) for f in files])}
        if codec == "jpeg":
            scans = [jpeg_scan(f) for f in files]
            _check_identical([f[:len(f) - len(s) - 2] for f, s in zip(files, scans)])
            entry["scan_bytes"] = np.array([len(s) for s in scans])
            optimised = [jpeg_file(image, q, optimize=True) for image in images]
            if not np.array_equal(np.stack([decode_file(f) for f in optimised]), entry["images"]):
                raise ValueError("JPEG's optimised Huffman tables changed the pixels.")
            entry["opt_scan_bytes"] = np.array([len(jpeg_scan(f)) for f in optimised])
        else:
            payloads = [webp_payload(f) for f in files]  # checks the sizes against the length
            _check_identical([f[:4] + f[8:16] + f[23:30] for f in files])
            entry["payload_bytes"] = np.array([len(p) for p in payloads])
        out[q] = entry
    return out
