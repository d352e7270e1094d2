"""Judges of generated images that are not the generator: a colour rule and a small trained classifier.

- **Colour**: the median colour (in CIELAB) of the pixels inside the spec's product mask, eroded by
  one pixel so outlines do not count, is compared with every colour the category allows; the image
  is correct when the nearest one is the spec's colour.
- **Category and pattern**: a small CNN with two heads, trained on renderer output only (fresh random
  specs every step, light noise and blur so it judges shapes and motifs rather than exact pixels).

Both are checked on renderer output too, so a report can say how good the judge itself is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch import nn

from generation.concepts.spec import DesignSpec
from generation.images.flat import product_mask
from generation.taxonomy import Taxonomy


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) in 0..255 -> CIELAB (..., 3), D65."""
    c = rgb.astype(np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def judged_colour(image: Image.Image, spec: DesignSpec, taxonomy: Taxonomy) -> str:
    """The category's colour nearest (in Lab) to the median colour inside the eroded product mask."""
    size = image.width
    mask = np.asarray(product_mask(spec, taxonomy, size=size).filter(ImageFilter.MinFilter(3))) > 0
    if not mask.any():
        mask = np.asarray(product_mask(spec, taxonomy, size=size)) > 0
    pixels = np.asarray(image.convert("RGB"))[mask]
    centre = _lab(np.median(pixels, axis=0))
    names = taxonomy.allowed("color", spec.category)
    palette = _lab(np.array([taxonomy.attribute("color", n).rgb_tuple for n in names], dtype=np.float64))
    return names[int(np.argmin(((palette - centre) ** 2).sum(axis=1)))]


class SketchClassifier(nn.Module):
    """(B, 3, R, R) images in [-1, 1] -> category logits and pattern logits."""

    def __init__(self, categories: Sequence[str], patterns: Sequence[str]) -> None:
        super().__init__()
        self.categories, self.patterns = list(categories), list(patterns)

        def block(i: int, o: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(),
                                 nn.Conv2d(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2))

        self.body = nn.Sequential(block(3, 32), block(32, 64), block(64, 128), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten())
        self.category = nn.Linear(128, len(self.categories))
        self.pattern = nn.Linear(128, len(self.patterns))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)  # (B, 128)
        return self.category(h), self.pattern(h)

    @torch.no_grad()
    def predict(self, images: Sequence[Image.Image]) -> tuple[list[str], list[str]]:
        self.eval()
        x = torch.from_numpy(np.stack([np.asarray(im.convert("RGB"), dtype=np.float32) for im in images]))
        cat, pat = self(x.permute(0, 3, 1, 2) / 127.5 - 1.0)
        return ([self.categories[i] for i in cat.argmax(1).tolist()],
                [self.patterns[i] for i in pat.argmax(1).tolist()])


def _augment(x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """Make the judge look at shapes and motifs, not at pixel-exact rendering (x: (B, 3, R, R) in [-1, 1]).

    Any image generator leaves traces a renderer never does: soft edges, speckled backgrounds, shifted
    brightness and contrast. Half the batch is blurred (3x3), every image gets a random brightness and
    contrast change of up to 20% and Gaussian noise with a random strength of up to 0.2."""
    b = x.shape[0]
    blur = torch.full((3, 1, 3, 3), 1 / 9)
    soft = nn.functional.conv2d(nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), blur, groups=3)
    pick = (torch.rand(b, 1, 1, 1, generator=rng) < 0.5).float()
    x = pick * soft + (1 - pick) * x
    contrast = 1 + 0.4 * (torch.rand(b, 1, 1, 1, generator=rng) - 0.5)
    brightness = 0.4 * (torch.rand(b, 1, 1, 1, generator=rng) - 0.5)
    strength = 0.2 * torch.rand(b, 1, 1, 1, generator=rng)
    return (x * contrast + brightness + strength * torch.randn(x.shape, generator=rng)).clamp(-1.5, 1.5)


def train_classifier(taxonomy: Taxonomy, sample_batch: Callable[[np.random.Generator, int], tuple[torch.Tensor,
                     list[DesignSpec]]], *, steps: int = 1500, batch_size: int = 64, seed: int = 0,
                     on_step: Callable[[int], None] | None = None) -> SketchClassifier:
    """Train the judge on renderer images from `sample_batch(rng, n) -> (images (n,3,R,R), specs)`."""
    torch.manual_seed(seed)
    rng, g = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    patterns = sorted(taxonomy.attributes["pattern"])
    model = SketchClassifier(sorted(taxonomy.categories), patterns)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for step in range(steps):
        x, specs = sample_batch(rng, batch_size)
        yc = torch.tensor([model.categories.index(s.category) for s in specs])
        yp = torch.tensor([patterns.index(s.pattern) for s in specs])
        cat, pat = model(_augment(x, g))
        loss = loss_fn(cat, yc) + loss_fn(pat, yp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if on_step is not None:
            on_step(step + 1)
    return model.eval()
