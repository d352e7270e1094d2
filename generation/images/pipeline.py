"""Any diffusers text-to-image pipeline as an image backend (Stable Diffusion, SD-Turbo, SDXL, FLUX...).

`DiffusersText2Image.from_pretrained(path_or_id)` loads the pipeline with `AutoPipelineForText2Image`,
which picks the right pipeline class from the folder's `model_index.json`. A local folder always works
offline; a hub id works only where the hub is reachable (never on our CI machines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image

from generation.concepts.spec import DesignSpec
from generation.errors import ImageModelError

NEGATIVE = "person, model, mannequin, text, watermark, logo, blurry, cropped"


def prompt_for(spec: DesignSpec) -> str:
    """A product-photo prompt from the spec: what the item is, then how to show it."""
    return f"product photo of a {spec.text()}, centred on a plain white background, studio lighting, catalogue"


class DiffusersText2Image:
    """Wraps a diffusers text-to-image pipeline behind the `ImageGenerator` interface."""

    name = "diffusers"

    def __init__(self, pipe: Any, *, steps: int = 25, guidance_scale: float = 5.0,
                 size: int | None = None) -> None:
        self.pipe = pipe
        self.steps = steps
        self.guidance_scale = guidance_scale
        self.size = size

    @classmethod
    def from_pretrained(cls, path_or_id: str | Path, *, device: str = "cpu", dtype: torch.dtype = torch.float32,
                        **sampling: Any) -> DiffusersText2Image:
        """Load any diffusers text-to-image pipeline from a folder (or a hub id where one is reachable)."""
        from diffusers import AutoPipelineForText2Image

        source = str(path_or_id)
        local = Path(source)
        if local.exists() and not (local / "model_index.json").is_file():
            raise ImageModelError(f"{local} is not a diffusers pipeline folder (no model_index.json)")
        try:
            pipe = AutoPipelineForText2Image.from_pretrained(source, dtype=dtype)
        except Exception as exc:  # diffusers raises OSError, ValueError, EnvironmentError... for a bad source
            raise ImageModelError(f"cannot load a diffusers text-to-image pipeline from {source!r}: {exc}") from exc
        pipe = pipe.to(device)
        pipe.set_progress_bar_config(disable=True)
        return cls(pipe, **sampling)

    def generate(self, spec: DesignSpec, *, n: int = 1, seed: int = 0) -> list[Image.Image]:
        """`n` images for the spec's prompt; the same seed gives the same images."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        extra: dict[str, Any] = {}
        if self.size:
            extra.update(height=self.size, width=self.size)
        if self.guidance_scale > 1.0:
            extra["negative_prompt"] = NEGATIVE
        generator = torch.Generator(device="cpu").manual_seed(seed)
        out = self.pipe(prompt_for(spec), num_images_per_prompt=n, num_inference_steps=self.steps,
                        guidance_scale=self.guidance_scale, generator=generator, **extra)
        return [im.convert("RGB") for im in out.images]
