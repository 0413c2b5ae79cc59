"""The scanner's pure half (chalicelib/domain/uploads.py): bytes in, clean bytes or a refusal out."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from chalicelib.domain import uploads
from chalicelib.domain.uploads import JPEG, PDF, PNG, Refused, sanitise

GPS_IFD = 0x8825  # 34853, GPSInfo
ORIENTATION = 0x0112


def jpeg_with_gps(size: tuple[int, int] = (64, 32), orientation: int | None = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0110] = "Pixel 8"  # camera model
    exif[0x0131] = "HDR+ 1.0"  # software
    if orientation:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "S", 2: (6.0, 48.0, 30.0), 3: "E", 4: (107.0, 36.0, 12.0)})
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "JPEG", exif=exif, comment=b"rumah pak RT")
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the fixture really has GPS
    return data


def png_with_metadata() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Siti Aminah")
    info.add_text("GPS", "-6.81,107.61")
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD).update({1: "S", 2: (6.0, 48.0, 30.0)})
    buf = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 128, 0, 100)).save(buf, "PNG", pnginfo=info, exif=exif)
    return buf.getvalue()


def clean(data: bytes, content_type: str) -> bytes:
    return sanitise(data, content_type, len(data)).data


def refused(data: bytes, content_type: str, declared: int | None = None) -> str:
    with pytest.raises(Refused) as err:
        sanitise(data, content_type, len(data) if declared is None else declared)
    return err.value.code


def test_detect_type_from_magic_bytes_only() -> None:
    assert uploads.detect_type(b"\xff\xd8\xff\xe0rest") == JPEG
    assert uploads.detect_type(b"\x89PNG\r\n\x1a\nrest") == PNG
    assert uploads.detect_type(b"%PDF-1.7\n") == PDF
    assert uploads.detect_type(b"<!DOCTYPE html><html>") is None
    assert uploads.detect_type(b"") is None


def test_jpeg_loses_every_exif_tag_gps_and_comment() -> None:
    out = clean(jpeg_with_gps(), JPEG)
    img = Image.open(io.BytesIO(out))
    assert img.format == "JPEG"
    assert dict(img.getexif()) == {}
    assert img.getexif().get_ifd(GPS_IFD) == {}
    assert not {"exif", "comment", "icc_profile", "xmp"} & set(img.info)
    assert b"Exif\x00\x00" not in out and b"Pixel 8" not in out and b"rumah pak RT" not in out


def test_orientation_is_applied_before_the_exif_goes() -> None:
    # Orientation 6 = "rotate 90 degrees clockwise to display": 64x32 stored, 32x64 shown.
    img = Image.open(io.BytesIO(clean(jpeg_with_gps((64, 32), orientation=6), JPEG)))
    assert img.size == (32, 64)
    img = Image.open(io.BytesIO(clean(jpeg_with_gps((64, 32), orientation=None), JPEG)))
    assert img.size == (64, 32)


def test_icc_profile_is_converted_to_srgb_and_dropped() -> None:
    buf = io.BytesIO()
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buf, "JPEG", icc_profile=profile)
    out = Image.open(io.BytesIO(clean(buf.getvalue(), JPEG)))
    assert "icc_profile" not in out.info


def test_png_passes_without_text_chunks_or_exif_and_keeps_transparency() -> None:
    data = png_with_metadata()
    assert b"Siti Aminah" in data
    out = clean(data, PNG)
    img = Image.open(io.BytesIO(out))
    assert img.format == "PNG" and img.mode == "RGBA" and img.getpixel((0, 0)) == (0, 128, 0, 100)
    assert dict(img.getexif()) == {} and not getattr(img, "text", {})
    assert b"Siti Aminah" not in out and b"eXIf" not in out


def test_palette_png_passes() -> None:
    buf = io.BytesIO()
    Image.new("P", (4, 4), 3).save(buf, "PNG")
    assert Image.open(io.BytesIO(clean(buf.getvalue(), PNG))).size == (4, 4)


def test_pdf_passes_unchanged() -> None:
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n/Font /JSans\n%%EOF\n"
    assert clean(pdf, PDF) == pdf  # /JSans is a name, not /JS


@pytest.mark.parametrize("body", [
    b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
    b"/AA << /O << /S /JavaScript /JS(x) >> >>",
    b"/S /J#61vaScript",  # a name with #xx escapes is the same name
    b"/S /Launch /F (cmd.exe)",
])
def test_pdf_with_active_content_is_refused(body: bytes) -> None:
    assert refused(b"%PDF-1.7\n" + body + b"\n%%EOF", PDF) == "pdf_active_content"


def test_pdf_renamed_jpg_is_a_type_mismatch() -> None:
    assert refused(b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF", JPEG) == "type_mismatch"


def test_png_declared_as_jpeg_is_a_type_mismatch() -> None:
    assert refused(png_with_metadata(), JPEG) == "type_mismatch"


def test_html_is_refused() -> None:
    assert refused(b"<!DOCTYPE html><html><script>alert(1)</script></html>", PNG) == "unrecognised_type"


def test_empty_file_is_refused() -> None:
    assert refused(b"", JPEG, declared=100) == "empty"


def test_larger_than_declared_is_refused() -> None:
    data = jpeg_with_gps()
    assert refused(data, JPEG, declared=len(data) - 1) == "size_mismatch"


def test_jpeg_magic_with_garbage_is_corrupt() -> None:
    assert refused(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50, JPEG) == "corrupt_image"


def test_truncated_jpeg_is_corrupt() -> None:
    data = jpeg_with_gps((400, 300))
    assert refused(data[: len(data) // 2], JPEG) == "corrupt_image"


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb's calling card."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    assert refused(_png_claiming(30_000, 30_000), PNG) == "too_many_pixels"
    assert refused(_png_claiming(8_000, 7_000), PNG) == "too_many_pixels"  # 56 MP > 50 MP


def test_api_side_never_loads_pillow() -> None:
    """Pillow ships in a layer that only scan_upload gets (infra/permissions.yaml `layers`): the API
    function imports the attachments service and check, so those must not import PIL."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; import chalicelib.api.attachments, chalicelib.services.attachment_claims; "
            "sys.exit(any(m == 'PIL' or m.startswith('PIL.') for m in sys.modules))")
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
