"""Tests for the procedural flat sketch: shapes, determinism, framing, colour and patterns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from generation.concepts.spec import DesignSpec
from generation.errors import GenerationError, TaxonomyError
from generation.images.flat import product_mask, render_flat
from generation.taxonomy import Taxonomy, load_taxonomy

TAXONOMY = load_taxonomy()
CATEGORIES = sorted(TAXONOMY.categories)
COLORS = sorted(TAXONOMY.attributes["color"])
PATTERNS = sorted(TAXONOMY.attributes["pattern"])


def make_spec(category: str, color: str = "navy", pattern: str = "stripe", silhouette: str | None = None,
              details: tuple[str, ...] = ()) -> DesignSpec:
    material = TAXONOMY.allowed("material", category)[0]
    return DesignSpec(category=category, color=color, material=material, pattern=pattern,
                      silhouette=silhouette, details=details)


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.int16)


def dominant_color(img: Image.Image, mask: Image.Image, taxonomy: Taxonomy) -> str:
    """The taxonomy colour that is nearest to the most pixels inside the mask."""
    palette = np.array([taxonomy.attribute("color", c).rgb_tuple for c in COLORS], dtype=np.float32)
    inside = np.asarray(img, dtype=np.float32)[np.asarray(mask) > 127]
    nearest = ((inside[:, None, :] - palette[None]) ** 2).sum(-1).argmin(1)
    return COLORS[int(np.bincount(nearest, minlength=len(COLORS)).argmax())]


@pytest.mark.parametrize("size", [32, 256])
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_renders_with_size_mode_and_white_corners(category: str, size: int) -> None:
    spec = make_spec(category)
    img, mask = render_flat(spec, TAXONOMY, size), product_mask(spec, TAXONOMY, size)
    assert (img.size, img.mode) == ((size, size), "RGB")
    assert (mask.size, mask.mode) == ((size, size), "L")
    assert set(np.unique(np.asarray(mask))) == {0, 255}
    arr = pixels(img)
    for y, x in itertools.product((0, 1, size - 2, size - 1), repeat=2):
        assert tuple(arr[y, x]) == (255, 255, 255)


@pytest.mark.parametrize("category", CATEGORIES)
def test_product_is_centred_and_fills_most_of_the_canvas(category: str) -> None:
    m = np.asarray(product_mask(make_spec(category), TAXONOMY, 256)) > 0
    ys, xs = np.nonzero(m)
    longer = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) / 256
    assert 0.7 <= longer <= 0.85
    assert abs((xs.min() + xs.max()) / 2 - 127.5) <= 3 and abs((ys.min() + ys.max()) / 2 - 127.5) <= 3


@pytest.mark.parametrize("pattern", ["solid", "leopard", "camo", "tie-dye"])
def test_same_spec_gives_identical_pixels(pattern: str) -> None:
    spec = make_spec("hoodie", "sage-green", pattern, details=("embroidery",))
    assert render_flat(spec, TAXONOMY, 128).tobytes() == render_flat(spec, TAXONOMY, 128).tobytes()


def test_categories_have_clearly_different_silhouettes() -> None:
    masks = {c: np.asarray(product_mask(make_spec(c), TAXONOMY, 64)) > 127 for c in CATEGORIES}
    for a, b in itertools.combinations(CATEGORIES, 2):
        iou = (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum()
        assert iou < 0.9, f"{a} and {b} masks overlap too much (IoU {iou:.2f})"


@pytest.mark.parametrize("size", [64, 256])
def test_dominant_colour_inside_the_mask_is_the_spec_colour(size: int) -> None:
    patterns = ["solid", "stripe", "check", "floral", "camo", "tie-dye", "colour-block"]
    cases = [(c, p) for c in COLORS for p in patterns]
    for i, (color, pattern) in enumerate(cases if size == 64 else cases[::5]):
        category = CATEGORIES[i % len(CATEGORIES)]
        if pattern not in TAXONOMY.allowed("pattern", category):
            pattern = "stripe"
        spec = make_spec(category, color, pattern)
        got = dominant_color(render_flat(spec, TAXONOMY, size), product_mask(spec, TAXONOMY, size), TAXONOMY)
        assert got == color, f"{category} {pattern} in {color} reads as {got} at {size}px"


def test_base_colour_covers_most_of_the_product_at_full_size() -> None:
    base = np.array(TAXONOMY.attribute("color", "cobalt").rgb_tuple, dtype=np.float32)
    for pattern in PATTERNS:
        spec = make_spec("t-shirt", "cobalt", pattern)
        inside = pixels(render_flat(spec, TAXONOMY, 256))[np.asarray(product_mask(spec, TAXONOMY, 256)) > 127]
        close = np.linalg.norm(inside - base, axis=1) < 25
        assert close.mean() >= 0.55, f"{pattern}: only {close.mean():.0%} of the product is the base colour"


def test_different_patterns_give_different_images() -> None:
    images = {p: pixels(render_flat(make_spec("cushion-cover", "coral", p), TAXONOMY, 64)) for p in PATTERNS}
    for a, b in itertools.combinations(PATTERNS, 2):
        assert np.abs(images[a] - images[b]).mean() > 1.0, f"{a} and {b} look the same"


def test_every_detail_material_and_silhouette_draws() -> None:
    for category in CATEGORIES:
        plain = pixels(render_flat(make_spec(category, "red", "solid"), TAXONOMY, 64))
        for detail in TAXONOMY.allowed("detail", category):
            marked = pixels(render_flat(make_spec(category, "red", "solid", details=(detail,)), TAXONOMY, 64))
            assert np.abs(marked - plain).sum() > 0, f"detail {detail} leaves a {category} unchanged"
        for material in TAXONOMY.allowed("material", category):
            spec = DesignSpec(category=category, color="red", material=material)
            assert render_flat(spec, TAXONOMY, 32).size == (32, 32)
        for silhouette in TAXONOMY.allowed("silhouette", category):
            assert render_flat(make_spec(category, silhouette=silhouette), TAXONOMY, 32).size == (32, 32)


@pytest.mark.parametrize(("category", "silhouette"), [("dress", "maxi"), ("t-shirt", "cropped"),
                                                      ("socks", "ankle"), ("tumbler", "compact")])
def test_silhouette_changes_the_shape(category: str, silhouette: str) -> None:
    plain = np.asarray(product_mask(make_spec(category), TAXONOMY, 64))
    changed = np.asarray(product_mask(make_spec(category, silhouette=silhouette), TAXONOMY, 64))
    assert (plain != changed).mean() > 0.02


def test_bad_inputs_raise_with_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="32"):
        render_flat(make_spec("cap"), TAXONOMY, 16)
    with pytest.raises(ValueError, match="32"):
        product_mask(make_spec("cap"), TAXONOMY, 31)
    with pytest.raises(TaxonomyError, match="t-shirt"):
        render_flat(DesignSpec(category="kimono", color="red", material="silk"), TAXONOMY, 64)
    with pytest.raises(TaxonomyError):
        render_flat(make_spec("cap", color="ultraviolet"), TAXONOMY, 64)
    with pytest.raises(GenerationError, match="polka-dot"):
        render_flat(make_spec("cap", pattern="paisley"), TAXONOMY, 64)
