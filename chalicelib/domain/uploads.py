"""What makes an uploaded file acceptable, on bytes alone (no AWS): the pure half of the scanner.

`sanitise(data, declared_type, declared_size)` returns the bytes to publish or raises `Refused`.

- The real type comes from the magic bytes, never from the name or the declared type: a PDF
  renamed .jpg, an HTML page or an empty file is refused.
- Photos are decoded and RE-ENCODED from their pixels only. EXIF (GPS position, camera serial,
  time), XMP, IPTC, comments and ICC profiles do not survive, whatever the file carried; the EXIF
  orientation is applied first so that photos stay upright without it.
- PDFs cannot be rewritten this cheaply; they pass on type, and one containing JavaScript is
  refused (see `_pdf_problem`: a heuristic, not a sanitiser).
"""
from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is imported where it is used: the API function never decodes images
    from PIL.Image import Image as PilImage

MAX_BYTES = 10 * 1024 * 1024
# Decoding cost grows with pixels, not bytes: a 10 MB PNG can expand to gigabytes (a
# "decompression bomb"). 50 megapixels covers phone cameras (48 MP sensors) at ~200 MB RGBA.
MAX_PIXELS = 50_000_000

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
_MAGIC = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG), (b"%PDF-", PDF))
_PIL_FORMAT = {JPEG: "JPEG", PNG: "PNG"}
EXTENSION = {JPEG: "jpg", PNG: "png", PDF: "pdf"}


class Refused(Exception):
    """The file is not accepted. `code` is stable (stored, shown to the uploader)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Clean:
    data: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def detect_type(data: bytes) -> str | None:
    """The content type that the leading bytes prove, or None."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def sanitise(data: bytes, declared_type: str, declared_size: int) -> Clean:
    if not data:
        raise Refused("empty", "The file is empty.")
    if len(data) > min(declared_size, MAX_BYTES):
        # The presigned POST allows 1..declared bytes; S3 enforces it, moto does not, so check.
        raise Refused("size_mismatch", "The file is larger than the size declared.")
    actual = detect_type(data)
    if actual is None:
        raise Refused("unrecognised_type", "The file is not a JPEG, PNG or PDF.")
    if actual != declared_type:
        raise Refused("type_mismatch", f"The file is a {EXTENSION[actual].upper()}, not what was declared.")
    if actual == PDF:
        problem = _pdf_problem(data)
        if problem:
            raise Refused("pdf_active_content", problem)
        return Clean(data, PDF)
    return Clean(_reencode(data, actual), actual)


def _reencode(data: bytes, content_type: str) -> bytes:
    from PIL import Image, ImageOps

    fmt = _PIL_FORMAT[content_type]
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that: make every bomb an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
                _check_pixels(probe.size)
                probe.verify()  # structure and checksums, without decoding the pixels
            # verify() leaves the image unusable: open again to decode.
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                _check_pixels(img.size)
                img.load()
                upright = ImageOps.exif_transpose(img)  # orientation applied, not carried
                pixels = _pixels_only(upright, fmt)
        except Refused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused("too_many_pixels", "The image is too large to process.") from None
        except Exception:  # noqa: BLE001 -- Pillow raises OSError, SyntaxError, ValueError, struct.error... on bad data
            raise Refused("corrupt_image", "The image cannot be read.") from None
    out = io.BytesIO()
    if fmt == "JPEG":
        pixels.save(out, "JPEG", quality=90, optimize=True)
    else:
        pixels.save(out, "PNG", optimize=True)
    return out.getvalue()


def _check_pixels(size: tuple[int, int]) -> None:
    if size[0] * size[1] > MAX_PIXELS:
        raise Refused("too_many_pixels", "The image is too large to process.")


def _pixels_only(img: PilImage, fmt: str) -> PilImage:
    """A new image holding nothing but the pixels: `info` (EXIF, XMP, ICC, text chunks) is empty.

    Colours are converted to sRGB first when the file carried an ICC profile, since dropping the
    profile would otherwise shift them (phone photos are often Display P3).
    """
    from PIL import Image

    keep: tuple[str, ...]
    if fmt == "JPEG":
        keep = ("L", "RGB")
        target = "L" if img.mode in ("1", "L", "I;16", "I") else "RGB"
    else:
        keep = ("1", "L", "LA", "RGB", "RGBA", "I;16")
        has_alpha = img.mode in ("LA", "RGBA", "PA") or "transparency" in img.info
        target = "RGBA" if has_alpha else "RGB"
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "RGBA"):
        img = _to_srgb(img, icc)
    if img.mode not in keep:
        img = img.convert(target)
    return Image.frombytes(img.mode, img.size, img.tobytes())


def _to_srgb(img: PilImage, icc: bytes) -> PilImage:
    from PIL import ImageCms

    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"), outputMode=img.mode) or img
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img  # a broken profile: keep the pixels as they are


# A PDF can carry JavaScript (/JS, /JavaScript actions) or launch programs (/Launch). This looks
# for those names in the raw bytes, after undoing #xx escapes in names (/J#61vaScript). It is a
# cheap heuristic, NOT a sanitiser: names inside compressed object streams (PDF 1.5+) are not
# seen. It stops the obvious cases; staff should still open PDFs in a viewer that runs no scripts.
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_ACTIVE = re.compile(rb"/(JS|JavaScript|Launch)(?=[\s/<>\[\]()%{}]|$)")


def _pdf_problem(data: bytes) -> str | None:
    unescaped = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    match = _PDF_ACTIVE.search(unescaped)
    if match:
        return f"The PDF contains /{match.group(1).decode()} (active content) and is not accepted."
    return None
