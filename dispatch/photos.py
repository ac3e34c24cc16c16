"""Citizens' photos: JPEG or PNG in, a resized JPEG out, with no EXIF (no GPS, no camera)."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from epimap.errors import BadRequest

MAX_BYTES = 10 * 2**20
MAX_SIDE = 1280
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded


class BadPhoto(BadRequest):
    """The photo is not a JPEG or PNG image, or too large."""

    code = "bad_photo"


def clean_photo(data: bytes) -> bytes:
    """Return a JPEG at most MAX_SIDE pixels wide or high, turned upright, without metadata."""
    if len(data) > MAX_BYTES:
        raise BadPhoto("Ảnh lớn hơn 10 MB.", "The photo is larger than 10 MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG"):
                raise BadPhoto("Ảnh phải là JPEG hoặc PNG.", "The photo must be a JPEG or PNG image.")
            if image.width * image.height > MAX_PIXELS:
                raise BadPhoto("Ảnh quá nhiều điểm ảnh.", "The photo has too many pixels.")
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise BadPhoto("Tệp không phải là ảnh JPEG hoặc PNG.",
                       "The file is not a JPEG or PNG image.") from exc
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=82, optimize=True)  # a new file: no EXIF, ICC or comments
    return out.getvalue()
