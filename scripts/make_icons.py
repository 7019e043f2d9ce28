"""Draw Parley's icons: the favicon, the home-screen and manifest icons.

The PNGs and the .ico are committed (static/icons/); run this only when the drawing changes:

    .venv/bin/python scripts/make_icons.py

The drawing: a white speech bubble with three blue dots on the top bar's dark colour. It is
drawn large and scaled down, so the small sizes stay smooth.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
BACKGROUND = "#111827"  # the top bar (static/css/parley.css)
ACCENT = "#2563eb"
CANVAS = 1024


def bubble(scale: float) -> Image.Image:
    """The bubble on a transparent canvas, ``scale`` of the full drawing, centred."""
    layer = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle((192, 240, 832, 704), radius=128, fill="white")
    draw.polygon([(300, 660), (300, 840), (480, 680)], fill="white")
    for x in (352, 512, 672):
        draw.ellipse((x - 56, 416, x + 56, 528), fill=ACCENT)
    if scale == 1:
        return layer
    size = int(CANVAS * scale)
    small = layer.resize((size, size), Image.LANCZOS)
    centred = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    centred.paste(small, ((CANVAS - size) // 2, (CANVAS - size) // 2))
    return centred


def icon(*, corner: float, scale: float = 1.0) -> Image.Image:
    """The full icon at CANVAS size; ``corner`` is the corner radius as a share of the side
    (0 where the platform rounds or masks the corners itself)."""
    image = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle(
        (0, 0, CANVAS - 1, CANVAS - 1), radius=int(CANVAS * corner), fill=BACKGROUND
    )
    return Image.alpha_composite(image, bubble(scale))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rounded = icon(corner=0.22)
    for size in (192, 512):
        rounded.resize((size, size), Image.LANCZOS).save(OUT / f"icon-{size}.png", optimize=True)
    # iOS rounds the corners itself; a maskable icon keeps the drawing in the middle 80 %.
    icon(corner=0).resize((180, 180), Image.LANCZOS).save(
        OUT / "apple-touch-icon.png", optimize=True
    )
    icon(corner=0, scale=0.75).resize((512, 512), Image.LANCZOS).save(
        OUT / "icon-maskable-512.png", optimize=True
    )
    rounded.resize((64, 64), Image.LANCZOS).save(
        OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64)]
    )


if __name__ == "__main__":
    main()
