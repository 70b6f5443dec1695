"""Logo and avatar images for the brand consistency tests, drawn with Pillow (no binary fixtures)."""
from __future__ import annotations

import io

from PIL import Image, ImageDraw


def logo_png(size: int = 512) -> bytes:
    """A transparent PNG: a filled circle with a diagonal bar, the kind of mark a logo is."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((size * 0.1, size * 0.1, size * 0.9, size * 0.9), fill=(200, 40, 40, 255))
    draw.polygon([(size * 0.2, size * 0.75), (size * 0.75, size * 0.2), (size * 0.82, size * 0.3),
                  (size * 0.3, size * 0.82)], fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def as_avatar_jpeg(png: bytes, size: int = 400, quality: int = 70) -> bytes:
    """What a network does to an uploaded logo: flattened, resized, recompressed as JPEG."""
    with Image.open(io.BytesIO(png)) as image:
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.convert("RGBA").split()[3])
        out = io.BytesIO()
        flat.resize((size, size)).save(out, "JPEG", quality=quality)
        return out.getvalue()


def other_picture(size: int = 400) -> bytes:
    """A different avatar: horizontal stripes and a square."""
    image = Image.new("RGB", (size, size), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    for top in range(0, size, size // 8):
        draw.rectangle((0, top, size, top + size // 16), fill=(20, 90, 160))
    draw.rectangle((size * 0.55, size * 0.05, size * 0.95, size * 0.45), fill=(250, 200, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
