"""Training the shipped image model on renderer output, with held-out attribute combinations.

Data: random specs drawn from the taxonomy, drawn fresh every step and rendered by `render_flat` at
the model's resolution (2 ms an image at 32x32), so the model never sees the same batch twice.
A fraction of (category, colour) pairs is held out: no training image has them, so evaluation on
those pairs measures whether the model composes attributes rather than memorising products.

Objective: epsilon prediction under a cosine DDPM schedule, Min-SNR-5 loss weighting (Hang et al.,
2023: faster convergence), the condition dropped 10% of the time for classifier-free guidance, an EMA
of the weights (the EMA is what ships). Checkpoints are safetensors + JSON (no pickle) and hold the
model, the EMA, the optimiser state, the step and the RNG state, so a run resumes exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from generation.concepts.spec import DesignSpec
from generation.images.conditioning import SpecEncoder
from generation.images.diffusion import (ImageModelConfig, TrendloomDiffusion, build_unet, predict_noise,
                                        training_schedule)
from generation.images.flat import render_flat
from generation.taxonomy import Taxonomy

Pair = tuple[str, str]  # (category, colour)


@dataclass
class TrainConfig:
    steps: int = 4000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 200
    ema_decay: float = 0.999
    cond_drop: float = 0.1
    heldout_frac: float = 0.15
    resolution: int = 32
    channels: tuple[int, ...] = (64, 96, 128)
    patch: int = 2
    seed: int = 0
    checkpoint_every: int = 250


def choose_heldout(taxonomy: Taxonomy, frac: float, seed: int) -> list[Pair]:
    """About `frac` of all (category, colour) pairs, keeping every category and colour in training.

    A pair is only held out if its category keeps at least 3 colours and its colour keeps at least
    2 categories, so the model has seen both attributes, just never together.
    """
    rng = np.random.default_rng(seed)
    pairs = [(c, k) for c in sorted(taxonomy.categories) for k in taxonomy.allowed("color", c)]
    rng.shuffle(pairs)
    target = round(frac * len(pairs))
    left_per_cat = {c: len(taxonomy.allowed("color", c)) for c in taxonomy.categories}
    left_per_col: dict[str, int] = {}
    for _, k in pairs:
        left_per_col[k] = left_per_col.get(k, 0) + 1
    out: list[Pair] = []
    for c, k in pairs:
        if len(out) == target:
            break
        if left_per_cat[c] > 3 and left_per_col[k] > 2:
            out.append((c, k))
            left_per_cat[c] -= 1
            left_per_col[k] -= 1
    return sorted(out)


def random_spec(taxonomy: Taxonomy, rng: np.random.Generator, *, avoid: set[Pair] = frozenset(),
                category: str | None = None, color: str | None = None) -> DesignSpec:
    """A random valid spec; `avoid` excludes (category, colour) pairs unless both are given."""
    cats = sorted(taxonomy.categories)
    while True:
        cat = category or cats[int(rng.integers(len(cats)))]
        colors = [k for k in taxonomy.allowed("color", cat) if color is not None or (cat, k) not in avoid]
        if colors:
            break

    def pick(kind: str) -> str | None:
        options = taxonomy.allowed(kind, cat)
        return options[int(rng.integers(len(options)))] if options else None

    details = taxonomy.allowed("detail", cat)
    n_details = min(int(rng.integers(0, 3)), len(details))
    chosen = tuple(sorted(rng.choice(details, size=n_details, replace=False).tolist())) if n_details else ()
    return DesignSpec(category=cat, color=color or colors[int(rng.integers(len(colors)))],
                      material=pick("material"), pattern=pick("pattern") or "solid",
                      silhouette=pick("silhouette"), details=chosen)


def render_batch(specs: Iterable[DesignSpec], taxonomy: Taxonomy, resolution: int) -> torch.Tensor:
    """(B, 3, R, R) float32 in [-1, 1]: the renderer's flat sketches, the training targets."""
    arr = np.stack([np.asarray(render_flat(s, taxonomy, size=resolution), dtype=np.float32) for s in specs])
    return torch.from_numpy(arr).permute(0, 3, 1, 2) / 127.5 - 1.0


def _save_checkpoint(path: Path, step: int, unet: torch.nn.Module, ema: torch.nn.Module,
                     opt: torch.optim.Optimizer, rng: np.random.Generator) -> None:
    """Model, EMA and optimiser tensors in one safetensors file; step, RNG and hyper-parameters in JSON."""
    tensors = {f"model.{k}": v.contiguous() for k, v in unet.state_dict().items()}
    tensors |= {f"ema.{k}": v.contiguous() for k, v in ema.state_dict().items()}
    state = opt.state_dict()
    for idx, slots in state["state"].items():
        for name, value in slots.items():
            tensors[f"opt.{idx}.{name}"] = torch.as_tensor(value).contiguous()
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(path)
    meta = {"step": step, "param_groups": state["param_groups"], "rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state().tolist()}
    path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")


def _load_checkpoint(path: Path, unet: torch.nn.Module, ema: torch.nn.Module,
                     opt: torch.optim.Optimizer, rng: np.random.Generator) -> int:
    tensors = load_file(str(path))
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    unet.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, idx, name = k.split(".", 2)
            opt_state.setdefault(int(idx), {})[name] = v
    opt.load_state_dict({"state": opt_state, "param_groups": meta["param_groups"]})
    rng.bit_generator.state = meta["rng"]
    torch.set_rng_state(torch.tensor(meta["torch_rng"], dtype=torch.uint8))
    return int(meta["step"])


def train(out: Path, checkpoints: Path, taxonomy: Taxonomy, encoder: SpecEncoder, embedder_name: str,
          cfg: TrainConfig, *, resume: bool = True,
          on_step: Callable[[int, float], None] | None = None) -> TrendloomDiffusion:
    """Train (or resume) and write the EMA model to `out` with `save_pretrained`.

    `on_step(step, loss)` is called after every step (the script drives a progress bar with it).
    Every `cfg.checkpoint_every` steps the full training state goes to `checkpoints/` (kept out of
    `weights/`: it is four times the model's size) and the EMA model is exported to `out`.
    """
    out.mkdir(parents=True, exist_ok=True)
    checkpoints.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    heldout = choose_heldout(taxonomy, cfg.heldout_frac, cfg.seed)
    avoid = set(heldout)
    unet = build_unet(cfg.resolution, encoder.dim, cfg.channels, cfg.patch)
    ema = build_unet(cfg.resolution, encoder.dim, cfg.channels, cfg.patch)
    ema.load_state_dict(unet.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.AdamW(unet.parameters(), lr=cfg.lr, weight_decay=0.0)
    sched = training_schedule()
    alphas = sched.alphas_cumprod  # (T,)
    snr = alphas / (1 - alphas)
    ckpt = checkpoints / "checkpoint.safetensors"
    step = _load_checkpoint(ckpt, unet, ema, opt, rng) if resume and ckpt.is_file() else 0
    (checkpoints / "train_config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n", encoding="utf-8")
    unet.train()
    while step < cfg.steps:
        for group in opt.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step + 1) / cfg.warmup)
        specs = [random_spec(taxonomy, rng, avoid=avoid) for _ in range(cfg.batch_size)]
        x0 = render_batch(specs, taxonomy, cfg.resolution)  # (B, 3, R, R)
        tokens, pooled = encoder.encode(specs)
        keep = torch.from_numpy(rng.random(cfg.batch_size) >= cfg.cond_drop).float()  # (B,)
        tokens, pooled = tokens * keep[:, None, None], pooled * keep[:, None]
        noise = torch.randn_like(x0)
        t = torch.randint(0, sched.config.num_train_timesteps, (cfg.batch_size,))
        xt = sched.add_noise(x0, noise, t)
        eps = predict_noise(unet, xt, t, tokens, pooled, cfg.patch)
        weight = torch.clamp(snr[t], max=5.0) / snr[t]  # Min-SNR-5 for epsilon prediction
        loss = (weight * (eps - noise).pow(2).mean(dim=(1, 2, 3))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        decay = min(cfg.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), unet.parameters()):
                pe.lerp_(p, 1 - decay)
        step += 1
        if on_step is not None:
            on_step(step, loss.item())
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            _save_checkpoint(ckpt, step, unet, ema, opt, rng)
            _export(out, ema, encoder, embedder_name, cfg, heldout, step)
    return _export(out, ema, encoder, embedder_name, cfg, heldout, step)


def _export(out: Path, ema: torch.nn.Module, encoder: SpecEncoder, embedder_name: str, cfg: TrainConfig,
            heldout: list[Pair], step: int) -> TrendloomDiffusion:
    config = ImageModelConfig(resolution=cfg.resolution, patch=cfg.patch, embedder=embedder_name, embed_dim=encoder.dim,
                              heldout=[list(p) for p in heldout], trained_steps=step)
    model = TrendloomDiffusion(ema, config, encoder.embed)
    model.save_pretrained(out)
    return model

