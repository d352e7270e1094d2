"""The image generator interface and its first backend, the procedural flat sketch.

Every backend turns a `DesignSpec` into images with `generate(spec, n=..., seed=...)`. Later backends
(the shipped diffusion model, any diffusers pipeline) implement the same method, so the service picks
one by name from its settings and never cares which it got.
"""

from __future__ import annotations

from typing import Protocol

from PIL import Image

from generation.concepts.spec import DesignSpec
from generation.images.flat import render_flat
from generation.taxonomy import Taxonomy


class ImageGenerator(Protocol):
    name: str

    def generate(self, spec: DesignSpec, *, n: int = 1, seed: int = 0) -> list[Image.Image]:
        """`n` RGB images of the product described by `spec`."""
        ...


class FlatSketchGenerator:
    """The technical flat sketch from `render_flat`: deterministic, so every seed gives the same image."""

    name = "flat"

    def __init__(self, taxonomy: Taxonomy, size: int = 256) -> None:
        self.taxonomy = taxonomy
        self.size = size

    def generate(self, spec: DesignSpec, *, n: int = 1, seed: int = 0) -> list[Image.Image]:
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        image = render_flat(spec, self.taxonomy, size=self.size)
        return [image.copy() for _ in range(n)]
