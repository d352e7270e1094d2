"""The shipped image model: a small pixel-space diffusion model conditioned on MiniLM embeddings.

Built from diffusers parts and saved like a diffusers pipeline:

    weights/trendloom-flat-32/
        trendloom_image.json                    resolution, embedder, sampling defaults, held-out pairs
        unet/config.json                        UNet2DConditionModel config
        unet/diffusion_pytorch_model.safetensors
        scheduler/scheduler_config.json         the training noise schedule (DDPM, cosine betas)

Sampling uses a fast solver built from the training schedule (`dpm-solver` by default, or `ddim`
by name) with classifier-free guidance: the model was trained with the condition dropped 10%
of the time, so `eps = eps_uncond + g * (eps_cond - eps_uncond)`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, UNet2DConditionModel
from PIL import Image

from generation.concepts.spec import DesignSpec
from generation.errors import ImageModelError
from generation.images.conditioning import POOLED_SLOTS, Embed, SpecEncoder

CONFIG_NAME = "trendloom_image.json"
WEIGHTS_NAME = "unet/diffusion_pytorch_model.safetensors"
# Sampling schedulers by name, built from the training schedule. Pixel-space models need the clean-image
# estimate kept in [-1, 1] (DDIM: clip_sample, carried over from the DDPM config; DPM-Solver: dynamic
# thresholding) and DPM-Solver needs lambda clipped under a cosine schedule (diffusers' docs); without
# these both amplify early-step errors into noise.
SCHEDULERS = {
    "dpm-solver": lambda config: DPMSolverMultistepScheduler.from_config(
        config, thresholding=True, sample_max_value=1.0, lambda_min_clipped=-5.1),
    "ddim": lambda config: DDIMScheduler.from_config(config),
}
TRAIN_HINT = ("train weights with `python scripts/train_image_model.py --out {path}`, or point "
              "TRENDLOOM_IMAGE_MODEL at another folder (TRENDLOOM_IMAGE_BACKEND=diffusers for any diffusers "
              "text-to-image pipeline)")


@dataclass
class ImageModelConfig:
    """Everything besides the UNet weights that sampling needs; saved as `trendloom_image.json`."""

    resolution: int = 32
    patch: int = 2  # the UNet works on (3 * patch**2, R / patch, R / patch): pixel-unshuffled images
    embedder: str = "all-MiniLM-L6-v2"
    embed_dim: int = 384
    steps: int = 20
    guidance_scale: float = 5.0  # chosen on trained pairs by scripts/eval_image_model.py --select-guidance
    scheduler: str = "dpm-solver"
    heldout: list[list[str]] = field(default_factory=list)  # (category, colour) pairs never trained on
    trained_steps: int = 0


def build_unet(resolution: int = 32, embed_dim: int = 384, channels: tuple[int, ...] = (64, 96, 128),
               patch: int = 2) -> UNet2DConditionModel:
    """A small UNet on pixel-unshuffled images, cross-attention on the attribute tokens at the coarsest level.

    Unshuffling 2x2 pixel patches into channels (as DiT's patch size 2 does) makes a step at 32x32
    about 4x cheaper than working on raw pixels, which buys three times the channels for the same
    CPU time. Attention only at the coarse level keeps it cheap too; the pooled attribute vector also
    enters through the time embedding ("projection" class embedding).
    """
    return UNet2DConditionModel(
        sample_size=resolution // patch, in_channels=3 * patch**2, out_channels=3 * patch**2,
        block_out_channels=channels,
        layers_per_block=1, norm_num_groups=16, attention_head_dim=8, cross_attention_dim=embed_dim,
        down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
        class_embed_type="projection", projection_class_embeddings_input_dim=POOLED_SLOTS * embed_dim,
    )


def training_schedule() -> DDPMScheduler:
    """The forward noising process used in training (cosine betas suit small images)."""
    return DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="epsilon")


def predict_noise(unet: UNet2DConditionModel, x: torch.Tensor, t: torch.Tensor, tokens: torch.Tensor,
                  pooled: torch.Tensor, patch: int) -> torch.Tensor:
    """The UNet's noise estimate for images x (B, 3, R, R), through the pixel (un)shuffle."""
    h = F.pixel_unshuffle(x, patch) if patch > 1 else x  # (B, 3 * p * p, R / p, R / p)
    eps = unet(h, t, encoder_hidden_states=tokens, class_labels=pooled).sample
    return F.pixel_shuffle(eps, patch) if patch > 1 else eps  # (B, 3, R, R)


def to_images(x: torch.Tensor) -> list[Image.Image]:
    """(B, 3, H, W) in [-1, 1] -> RGB PIL images."""
    arr = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray(a, "RGB") for a in arr]


class TrendloomDiffusion:
    """The shipped text-to-image model. An `ImageGenerator`: `generate(spec, n=, seed=)`."""

    name = "trendloom"

    def __init__(self, unet: UNet2DConditionModel, config: ImageModelConfig, embed: Embed, *,
                 scheduler: str | None = None, steps: int | None = None, guidance_scale: float | None = None,
                 output_size: int | None = None, device: str = "cpu") -> None:
        self.unet = unet.eval()
        self.config = config
        self.encoder = SpecEncoder(embed, config.embed_dim)
        self.steps = steps or config.steps
        self.guidance_scale = config.guidance_scale if guidance_scale is None else guidance_scale
        self.output_size = output_size
        self.device = device
        name = scheduler or config.scheduler
        if name not in SCHEDULERS:
            raise ImageModelError(f"unknown scheduler {name!r}; allowed: {', '.join(SCHEDULERS)}")
        self.scheduler = SCHEDULERS[name](training_schedule().config)

    @classmethod
    def from_pretrained(cls, path: str | Path, *, embed: Embed, embedder_name: str, device: str = "cpu",
                        **sampling: Any) -> TrendloomDiffusion:
        """Load from a folder written by `save_pretrained`; checks every file and the embedder first."""
        root = Path(path)
        hint = TRAIN_HINT.format(path=root)
        for rel in (CONFIG_NAME, "unet/config.json", WEIGHTS_NAME):
            if not (root / rel).is_file():
                raise ImageModelError(f"image model file missing: {root / rel}; {hint}")
        try:
            raw = json.loads((root / CONFIG_NAME).read_text(encoding="utf-8"))
            config = ImageModelConfig(**raw)
        except (json.JSONDecodeError, TypeError) as exc:
            raise ImageModelError(f"image model config {root / CONFIG_NAME} is corrupt ({exc}); {hint}") from exc
        if config.embedder != embedder_name:
            raise ImageModelError(f"{root} was trained on embeddings from {config.embedder!r}, but the "
                                  f"configured embedder is {embedder_name!r}; use that embedder or retrain")
        try:
            unet = UNet2DConditionModel.from_pretrained(root / "unet", low_cpu_mem_usage=False)
        except Exception as exc:  # safetensors/diffusers raise several types for a damaged file
            raise ImageModelError(f"cannot load image model weights {root / WEIGHTS_NAME}: {exc}; {hint}") from exc
        return cls(unet.to(device), config, embed, device=device, **sampling)

    def save_pretrained(self, path: str | Path) -> None:
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        self.unet.save_pretrained(root / "unet", safe_serialization=True)
        training_schedule().save_pretrained(root / "scheduler")
        (root / CONFIG_NAME).write_text(json.dumps(asdict(self.config), indent=2) + "\n", encoding="utf-8")

    @torch.no_grad()
    def generate(self, spec: DesignSpec, *, n: int = 1, seed: int = 0) -> list[Image.Image]:
        """`n` images of `spec`; the same seed gives the same images."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        return self.sample([spec] * n, seed=seed)

    @torch.no_grad()
    def sample(self, specs: list[DesignSpec], *, seed: int = 0) -> list[Image.Image]:
        """One image per spec, all sampled in one batch (B specs -> a batch of 2B with guidance)."""
        r, b = self.config.resolution, len(specs)
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(b, 3, r, r, generator=g).to(self.device)  # (B, 3, R, R)
        tokens, pooled = self.encoder.encode(specs)
        u_tokens, u_pooled = SpecEncoder.unconditional(b, self.config.embed_dim)
        guided = self.guidance_scale != 1.0
        if guided:
            tokens, pooled = torch.cat([tokens, u_tokens]), torch.cat([pooled, u_pooled])  # (2B, ...)
        tokens, pooled = tokens.to(self.device), pooled.to(self.device)
        self.scheduler.set_timesteps(self.steps)
        x = x * self.scheduler.init_noise_sigma
        for t in self.scheduler.timesteps:
            inp = self.scheduler.scale_model_input(torch.cat([x, x]) if guided else x, t)
            eps = predict_noise(self.unet, inp, t, tokens, pooled, self.config.patch)
            if guided:
                cond, uncond = eps.chunk(2)
                eps = uncond + self.guidance_scale * (cond - uncond)
            x = self.scheduler.step(eps, t, x).prev_sample
        images = to_images(x)
        if self.output_size and self.output_size != r:
            images = [im.resize((self.output_size, self.output_size), Image.LANCZOS) for im in images]
        return images


def parameter_count(unet: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in unet.parameters()))
