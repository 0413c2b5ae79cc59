"""Draws the web client's app icons (web/icons/*.png) with Pillow: the regency-blue tile with a
white speech bubble and "KBB". Run after changing the design: .venv/bin/python tools/make_icons.py
The PNGs are committed; the manifest (web/manifest.webmanifest) names them."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "web" / "icons"
BLUE = (11, 79, 138, 255)
WHITE = (255, 255, 255, 255)
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def icon(size: int, *, maskable: bool = False) -> Image.Image:
    img = Image.new("RGBA", (size, size), BLUE if maskable else (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if not maskable:
        d.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=BLUE)
    # A maskable icon keeps its drawing inside the central 80 % safe zone.
    pad = size * (0.22 if maskable else 0.14)
    box = (pad, pad, size - pad, size - pad * 1.35)
    d.rounded_rectangle(box, radius=size // 10, fill=WHITE)
    tail_x = box[0] + (box[2] - box[0]) * 0.28
    d.polygon([(tail_x, box[3] - 1), (tail_x + size * 0.12, box[3] - 1), (tail_x, box[3] + size * 0.11)], fill=WHITE)
    try:
        font = ImageFont.truetype(str(FONT), int((box[2] - box[0]) * 0.34))
    except OSError:
        font = ImageFont.load_default()
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    d.text((cx, cy), "KBB", font=font, fill=BLUE, anchor="mm")
    return img.convert("RGB") if maskable else img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size).save(OUT / f"icon-{size}.png", optimize=True)
    icon(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    icon(180, maskable=True).save(OUT / "apple-touch-icon.png", optimize=True)
    icon(32).save(OUT / "favicon-32.png", optimize=True)


if __name__ == "__main__":
    main()
