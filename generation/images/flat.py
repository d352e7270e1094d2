"""The procedural "flat technical sketch": a clean, deterministic drawing of a product from its spec.

Each category has a draw function (`flat_shapes.py`) returning a `Sketch` (filled polygons plus
construction lines) in a 100x100 unit space, y pointing down. `render_flat` fits the sketch to 80% of the
canvas, fills it with the spec colour and pattern, outlines it, adds detail marks and a faint material
texture (`flat_surface.py`). Pattern and detail colours are shades of the base colour and cover well
under half of the product, so the spec colour stays dominant inside `product_mask` (the image checker
judges colour there). Drawing happens at 4x the final size and is box-downsampled for antialiasing. The
same spec always gives the same pixels: the only randomness is a numpy generator seeded with the CRC32
of `spec.text()`.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from generation.concepts.spec import DesignSpec
from generation.errors import GenerationError
from generation.images.flat_shapes import SHAPES, Pt, Sketch, dashes
from generation.images.flat_surface import (DETAILS, OUTLINE, PATTERNS, RGB, TEXTURES, WHITE, Brush, Palette, mix,
                                            shade, texture)
from generation.taxonomy import Taxonomy

MIN_SIZE, MAX_SIZE = 32, 1024
SUPERSAMPLE = 4
FILL = 0.8  # the product's longer side as a fraction of the canvas side
MIN_PERIOD = 12  # final pixels: small images get fewer, larger pattern motifs rather than mush
FULL_DETAIL = 128  # below this size texture and construction lines fade and minor lines are left out


# ---------------------------------------------------------------- rendering


def _check_size(size: int) -> None:
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be an integer number of pixels from {MIN_SIZE} to {MAX_SIZE} "
                         f"(e.g. 32, 64, 128, 256), got {size!r}")


def _sketch(spec: DesignSpec, taxonomy: Taxonomy) -> Sketch:
    """The category's sketch, after checking the spec against the taxonomy. Every shipped attribute has
    its drawing; one a merchandiser added (`generation.taxonomy.extended`) has none yet, so its material
    is drawn smooth, its pattern plain and its detail left out: the sketch stays a sketch of the rest."""
    taxonomy.category(spec.category)  # TaxonomyError naming the allowed values if unknown
    taxonomy.attribute("material", spec.material)
    taxonomy.attribute("pattern", spec.pattern)
    if spec.category not in SHAPES:
        raise GenerationError(f"the flat sketch cannot draw category {spec.category!r}; "
                              f"drawable: {', '.join(sorted(SHAPES))}")
    return SHAPES[spec.category](spec)


@dataclass(frozen=True)
class _Frame:
    """Where the sketch lands on the supersampled canvas: canvas = offset + scale * sketch units."""

    scale: float
    ox: float
    oy: float

    @classmethod
    def fit(cls, sketch: Sketch, canvas: int) -> _Frame:
        """Scale the solid parts so their longer side is FILL of the canvas, and centre them."""
        pts = [p for pt in sketch.parts if not pt.cut and pt.alpha == 1 for p in pt.points]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        scale = FILL * canvas / max(max(xs) - min(xs), max(ys) - min(ys))
        return cls(scale, canvas / 2 - scale * (min(xs) + max(xs)) / 2, canvas / 2 - scale * (min(ys) + max(ys)) / 2)

    def __call__(self, pts: tuple[Pt, ...] | list[Pt]) -> list[Pt]:
        return [(self.ox + self.scale * x, self.oy + self.scale * y) for x, y in pts]


def _mask_hi(sketch: Sketch, frame: _Frame, canvas: int) -> Image.Image:
    mask = Image.new("L", (canvas, canvas), 0)
    d = ImageDraw.Draw(mask)
    for pt in sketch.parts:
        if pt.alpha == 1:
            d.polygon(frame(pt.points), fill=0 if pt.cut else 255)
    return mask


def product_mask(spec: DesignSpec, taxonomy: Taxonomy, size: int = 256) -> Image.Image:
    """The product's silhouette at `size` x `size`, mode "L": 255 where the product covers at least
    half of a pixel in `render_flat`'s image of the same spec and size, 0 elsewhere."""
    _check_size(size)
    sketch = _sketch(spec, taxonomy)
    hi = size * SUPERSAMPLE
    soft = _mask_hi(sketch, _Frame.fit(sketch, hi), hi).reduce(SUPERSAMPLE)
    return soft.point(lambda v: 255 if v >= 128 else 0)


def _paint(canvas: Image.Image, pts: list[Pt], source: Image.Image | RGB, alpha: float) -> None:
    """Paint `source` (an image the size of the canvas, or a colour) through polygon `pts`."""
    x0, y0 = max(0, int(min(p[0] for p in pts))), max(0, int(min(p[1] for p in pts)))
    x1 = min(canvas.width, int(max(p[0] for p in pts)) + 2)
    y1 = min(canvas.height, int(max(p[1] for p in pts)) + 2)
    m = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(m).polygon([(x - x0, y - y0) for x, y in pts], fill=round(255 * alpha))
    fill = source.crop((x0, y0, x1, y1)) if isinstance(source, Image.Image) else source
    canvas.paste(fill, (x0, y0, x1, y1), m)


def render_flat(spec: DesignSpec, taxonomy: Taxonomy, size: int = 256) -> Image.Image:
    """A flat technical sketch of `spec`: RGB, `size` x `size`, white background, product centred.

    Deterministic: the same spec and size always give identical pixels. Raises ValueError for a size
    outside 32..1024 and TaxonomyError / GenerationError for anything the spec names that cannot be drawn.
    """
    _check_size(size)
    sketch = _sketch(spec, taxonomy)
    pal = Palette.of(taxonomy.attribute("color", spec.color).rgb_tuple)
    rng = np.random.default_rng(zlib.crc32(spec.text().encode("utf-8")))
    hi = size * SUPERSAMPLE
    frame = _Frame.fit(sketch, hi)
    ow = max(2, round(hi * 2.5 / 1024))  # outline: 2.5 px at 256
    lw = max(2, round(ow * 0.55))
    fade = min(1.0, size / FULL_DETAIL)

    # 1. The surface: base colour, pattern over the product's box, detail marks. Parts are filled from it.
    surface = Image.new("RGB", (hi, hi), pal.base)
    solid = [p for pt in sketch.parts if not pt.cut and pt.alpha == 1 for p in frame(pt.points)]
    box = (min(p[0] for p in solid), min(p[1] for p in solid), max(p[0] for p in solid), max(p[1] for p in solid))
    period = max(math.sqrt((box[2] - box[0]) * (box[3] - box[1])) / 6, MIN_PERIOD * SUPERSAMPLE)
    (mx0, my0), (mx1, my1) = frame([sketch.main[:2], sketch.main[2:]])
    brush = Brush(ImageDraw.Draw(surface), box, (mx0, my0, mx1, my1), frame([sketch.focus])[0], period,
                  frame.scale, lw, pal, rng)
    PATTERNS.get(spec.pattern, PATTERNS["solid"])(brush)
    for detail in spec.details:
        if detail not in sketch.handled and detail in DETAILS:
            DETAILS[detail](brush)

    # 2. The canvas: each part filled (surface, flat shade or a white hole) and outlined, then the lines.
    canvas = Image.new("RGB", (hi, hi), WHITE)
    draw = ImageDraw.Draw(canvas)
    for pt in sketch.parts:
        pts = frame(pt.points)
        _paint(canvas, pts, WHITE if pt.cut else surface if pt.tone is None else shade(pal.base, pt.tone), pt.alpha)
        if pt.outline:
            draw.line(pts + pts[:2], fill=OUTLINE, width=ow, joint="curve")
    seam = mix(pal.base, pal.seam, fade)
    for ln in sketch.lines:
        if ln.minor and size < FULL_DETAIL:
            continue
        pts = frame(ln.points)
        for seg in dashes(pts, 3 * frame.scale, 2 * frame.scale) if ln.dashed else [pts]:
            draw.line(seg, fill=seam, width=lw, joint="curve")

    # 3. Downsample, then add the material texture inside the product.
    image = np.asarray(canvas.reduce(SUPERSAMPLE), np.float32)
    inside = np.asarray(_mask_hi(sketch, frame, hi).reduce(SUPERSAMPLE), np.float32) / 255
    tex = texture(TEXTURES.get(spec.material, "smooth"), size, rng, tuple(v / SUPERSAMPLE for v in box))
    out = image + (tex * inside * fade)[:, :, None]
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "RGB")
