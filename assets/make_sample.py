#!/usr/bin/env python3
"""Generates assets/sample.png, the picture Strata opens when started without a file.

The picture is a small poster built to be a good decomposition demo: a smooth dusk sky with
soft cloud texture, a sun with a soft edge and glow, a pale moon, two mountain ridges, pine
trees, a translucent rounded card with a shadow, and a headline in DejaVu Sans Bold. Each
object has its own colour and clear edges, so a layer decomposition has something to find.

Run from anywhere: `python3 assets/make_sample.py`. Needs Pillow and NumPy; the output is
deterministic (fixed seed). The picture is dedicated to the public domain (CC0).
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

W, H = 960, 640
SS = 4  # supersampling factor for shapes drawn with PIL
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
OUT = Path(__file__).resolve().parent / "sample.png"
RNG = np.random.default_rng(7)


def lerp(a, b, t):
    return a + (b - a) * t


def smooth_noise(cells_x, cells_y, octaves=4):
    """Low-frequency fractal noise in 0..1, shape (H, W): upsampled random grids, summed."""
    total = np.zeros((H, W), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        grid = RNG.random((cells_y * 2**o + 1, cells_x * 2**o + 1)).astype(np.float32)
        layer = Image.fromarray(grid, mode="F").resize((W, H), Image.Resampling.BICUBIC)
        total += amp * np.asarray(layer)
        norm += amp
        amp *= 0.5
    return np.clip(total / norm, 0.0, 1.0)


def supersampled_mask(draw_fn):
    """A 0..1 coverage mask from shapes drawn by `draw_fn(draw, scale)` at SS× resolution."""
    big = Image.new("L", (W * SS, H * SS), 0)
    draw_fn(ImageDraw.Draw(big), SS)
    small = big.resize((W, H), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255.0


def over(canvas, color, alpha):
    """Paints `color` (RGB 0..1) with per-pixel `alpha` (0..1) over `canvas` (H, W, 3)."""
    a = alpha[..., None]
    canvas[:] = canvas * (1.0 - a) + np.asarray(color, np.float32) * a


def hex_rgb(code):
    code = code.lstrip("#")
    return np.array([int(code[i : i + 2], 16) / 255.0 for i in (0, 2, 4)], np.float32)


def sky():
    """Dusk gradient (indigo → magenta → peach) with faint cloud bands."""
    stops = [(0.0, "#141a46"), (0.35, "#47306f"), (0.62, "#b24f7d"), (0.8, "#f08a6a"), (1.0, "#ffc98a")]
    y = np.linspace(0.0, 1.0, H, dtype=np.float32)
    column = np.zeros((H, 3), np.float32)
    for (t0, c0), (t1, c1) in zip(stops, stops[1:]):
        band = (y >= t0) & (y <= t1)
        t = ((y[band] - t0) / (t1 - t0))[:, None]
        t = t * t * (3 - 2 * t)  # smoothstep keeps the bands seamless
        column[band] = lerp(hex_rgb(c0), hex_rgb(c1), t)
    canvas = np.repeat(column[:, None, :], W, axis=1)
    clouds = smooth_noise(6, 3)
    streaks = np.asarray(
        Image.fromarray(clouds, mode="F").resize((W // 8, H), Image.Resampling.BICUBIC).resize((W, H)),
        np.float32,
    )
    cloud_alpha = np.clip((streaks - 0.52) * 2.2, 0.0, 0.35) * np.clip(1.2 - y[:, None] * 1.1, 0, 1)
    over(canvas, hex_rgb("#ffd6e8"), cloud_alpha)
    # Fine paper grain, quantised to whole levels so the PNG stays small.
    grain = (RNG.random((H // 2, W // 2)) - 0.5).astype(np.float32)
    grain = np.kron(grain, np.ones((2, 2), np.float32)) * (3.0 / 255.0)
    return np.clip(canvas + grain[..., None], 0.0, 1.0)


def sun(canvas, cx=640.0, cy=350.0, r=92.0):
    """A warm disc with a soft (1–2 px) edge and a wide glow around it."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    d = np.hypot(xx - cx, yy - cy)
    glow = np.exp(-np.maximum(d - r, 0.0) / 70.0) * 0.45 * (d > r - 2)
    over(canvas, hex_rgb("#ffd27a"), glow)
    disc = np.clip(r - d + 0.75, 0.0, 1.0)
    shade = np.clip((yy - (cy - r)) / (2 * r), 0.0, 1.0)[..., None]
    colour = lerp(hex_rgb("#fff1a8"), hex_rgb("#ff9f43"), shade)
    a = disc[..., None]
    canvas[:] = canvas * (1.0 - a) + colour * a


def moon(canvas, cx=150.0, cy=120.0, r=34.0):
    """A flat pale circle with a crisp edge: the simplest object in the picture."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    d = np.hypot(xx - cx, yy - cy)
    over(canvas, hex_rgb("#e8ecff"), np.clip(r - d + 0.5, 0.0, 1.0))


def ridge(base, amplitude, roughness, seed_cells):
    """A mountain profile: top edge y(x) from fractal 1D noise."""
    x = np.arange(W, dtype=np.float32)
    profile = np.zeros(W, np.float32)
    amp = 1.0
    for o in range(5):
        n = seed_cells * 2**o + 1
        pts = RNG.random(n).astype(np.float32)
        profile += amp * np.interp(x, np.linspace(0, W - 1, n), pts)
        amp *= roughness
    profile = (profile - profile.min()) / (profile.max() - profile.min())
    return base - amplitude * profile


def mountains(canvas):
    yy = np.mgrid[0:H, 0:W][0].astype(np.float32)
    back = ridge(470.0, 170.0, 0.5, 3)
    front = ridge(560.0, 110.0, 0.45, 4)
    back_alpha = np.clip(yy - back[None, :] + 0.5, 0.0, 1.0)
    haze = np.clip((yy - back.min()) / 260.0, 0.0, 1.0)[..., None]
    back_colour = lerp(hex_rgb("#5a3f7a"), hex_rgb("#3a2d5c"), haze)
    a = back_alpha[..., None]
    canvas[:] = canvas * (1 - a) + back_colour * a
    over(canvas, hex_rgb("#1d3b4a"), np.clip(yy - front[None, :] + 0.5, 0.0, 1.0))
    return front


def trees(canvas, front):
    """Pine silhouettes standing on the front ridge."""

    def draw(d, s):
        for x, height in [(90, 150), (132, 110), (470, 125), (508, 92)]:
            ground = front[x] + 6
            top = ground - height
            d.rectangle([(x - 5) * s, (ground - 22) * s, (x + 5) * s, (ground + 4) * s], fill=255)
            for k in range(3):
                t0 = top + k * height * 0.24
                half = height * (0.18 + 0.09 * k)
                bottom = t0 + height * 0.42
                d.polygon([(x * s, t0 * s), ((x - half) * s, bottom * s), ((x + half) * s, bottom * s)], fill=255)

    over(canvas, hex_rgb("#0f2430"), supersampled_mask(draw))


def card(canvas):
    """A translucent rounded card with a soft drop shadow and a caption."""
    box = (560, 468, 910, 598)

    def shape(offset):
        def draw(d, s):
            x0, y0, x1, y1 = (v + offset for v in box)
            d.rounded_rectangle([x0 * s, y0 * s, x1 * s, y1 * s], radius=22 * s, fill=255)

        return draw

    shadow = supersampled_mask(shape(8))
    shadow = np.asarray(Image.fromarray((shadow * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(9)), np.float32)
    over(canvas, hex_rgb("#0b0f24"), shadow / 255.0 * 0.45)
    over(canvas, hex_rgb("#fbf7f2"), supersampled_mask(shape(0)) * 0.92)
    over(canvas, hex_rgb("#e4572e"), supersampled_mask(lambda d, s: d.ellipse([592 * s, 500 * s, 652 * s, 560 * s], fill=255)))

    def caption(d, s):
        bold = ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), 26 * s)
        regular = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), 17 * s)
        d.text((674 * s, 500 * s), "Flat in,", font=bold, fill=255)
        d.text((674 * s, 532 * s), "layers out.", font=bold, fill=255)
        d.text((674 * s, 568 * s), "PSD · ORA · PNG", font=regular, fill=255)

    over(canvas, hex_rgb("#22223b"), supersampled_mask(caption))


def headline(canvas):
    """Big title with a soft shadow, in DejaVu Sans Bold."""
    font_path = str(FONT_DIR / "DejaVuSans-Bold.ttf")

    def title(offset):
        def draw(d, s):
            font = ImageFont.truetype(font_path, 112 * s)
            d.text(((236 + offset) * s, (64 + offset) * s), "STRATA", font=font, fill=255)

        return draw

    shadow = supersampled_mask(title(5))
    shadow = np.asarray(Image.fromarray((shadow * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(6)), np.float32)
    over(canvas, hex_rgb("#0a0b1e"), shadow / 255.0 * 0.5)
    over(canvas, hex_rgb("#fff4e0"), supersampled_mask(title(0)))

    def subtitle(d, s):
        font = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), 24 * s)
        d.text((246 * s, 196 * s), "every picture is a stack of layers", font=font, fill=255)

    over(canvas, hex_rgb("#ffd9c2"), supersampled_mask(subtitle))


def main():
    canvas = sky()
    moon(canvas)
    sun(canvas)
    front = mountains(canvas)
    trees(canvas, front)
    headline(canvas)
    card(canvas)
    pixels = (np.clip(canvas, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    Image.fromarray(pixels, mode="RGB").save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
