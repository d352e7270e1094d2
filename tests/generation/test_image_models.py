"""The image backends with tiny components built here: nothing is downloaded, everything runs on CPU."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from generation.concepts.spec import DesignSpec
from generation.errors import ImageModelError
from generation.images.conditioning import SLOTS, SpecEncoder, spec_phrases
from generation.images.diffusion import ImageModelConfig, TrendloomDiffusion, build_unet
from generation.images.training import TrainConfig, choose_heldout, random_spec, train
from generation.taxonomy import load_taxonomy

DIM = 32
SPEC = DesignSpec(category="tumbler", color="navy", material="stainless-steel", pattern="stripe")


def fake_embed(texts):
    """A deterministic stand-in for MiniLM: one random unit vector per distinct text."""
    out = []
    for t in texts:
        v = np.random.default_rng(zlib.crc32(t.encode())).standard_normal(DIM).astype(np.float32)
        out.append(v / np.linalg.norm(v))
    return np.stack(out)


def tiny_model(tmp_path) -> TrendloomDiffusion:
    torch.manual_seed(0)
    unet = build_unet(resolution=16, embed_dim=DIM, channels=(16, 16, 16))
    model = TrendloomDiffusion(unet, ImageModelConfig(resolution=16, embedder="fake", embed_dim=DIM, steps=3),
                               fake_embed)
    model.save_pretrained(tmp_path / "model")
    return model


def test_spec_encoder_one_token_per_attribute_and_zero_for_missing_silhouette():
    enc = SpecEncoder(fake_embed, DIM)
    tokens, pooled = enc.encode([SPEC, DesignSpec(category="dress", color="navy", material="cotton",
                                                  silhouette="a-line")])
    assert tokens.shape == (2, len(SLOTS), DIM) and pooled.shape == (2, 4 * DIM)
    assert torch.all(tokens[0, 4] == 0) and torch.any(tokens[1, 4] != 0)
    assert torch.equal(tokens[0, 1], tokens[1, 1])  # same colour phrase, same token
    assert spec_phrases(SPEC)[1] == "navy colour"


def test_trendloom_model_round_trips_and_is_seeded(tmp_path):
    model = tiny_model(tmp_path)
    loaded = TrendloomDiffusion.from_pretrained(tmp_path / "model", embed=fake_embed, embedder_name="fake")
    a = [np.asarray(im) for im in model.generate(SPEC, n=2, seed=7)]
    b = [np.asarray(im) for im in loaded.generate(SPEC, n=2, seed=7)]
    assert a[0].shape == (16, 16, 3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], a[1])  # different noise per image in the batch
    c = loaded.generate(SPEC, n=1, seed=8)[0]
    assert not np.array_equal(np.asarray(c), a[0])


def test_missing_corrupt_or_mismatched_weights_fail_loudly(tmp_path):
    tiny_model(tmp_path)
    root = tmp_path / "model"
    with pytest.raises(ImageModelError, match="configured embedder is 'other'"):
        TrendloomDiffusion.from_pretrained(root, embed=fake_embed, embedder_name="other")
    weights = root / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(b"not a safetensors file")
    with pytest.raises(ImageModelError, match="diffusion_pytorch_model.safetensors.*train_image_model.py"):
        TrendloomDiffusion.from_pretrained(root, embed=fake_embed, embedder_name="fake")
    weights.unlink()
    with pytest.raises(ImageModelError, match="missing.*diffusion_pytorch_model.safetensors.*TRENDLOOM_IMAGE_MODEL"):
        TrendloomDiffusion.from_pretrained(root, embed=fake_embed, embedder_name="fake")
    with pytest.raises(ImageModelError, match="unknown scheduler 'nope'; allowed: dpm-solver, ddim"):
        TrendloomDiffusion(build_unet(16, DIM, (16, 16, 16)), ImageModelConfig(resolution=16, embed_dim=DIM),
                           fake_embed, scheduler="nope")


def test_heldout_pairs_never_appear_in_training_specs():
    tx = load_taxonomy()
    held = choose_heldout(tx, 0.15, seed=0)
    assert len(held) > 20
    cats = {c for c, _ in held}
    for c in cats:  # every category keeps colours it is trained on
        assert len(tx.allowed("color", c)) - sum(1 for h in held if h[0] == c) >= 3
    rng = np.random.default_rng(0)
    seen = {(s.category, s.color) for s in (random_spec(tx, rng, avoid=set(held)) for _ in range(3000))}
    assert not seen & set(held)


def test_training_resumes_exactly_where_it_stopped(tmp_path):
    torch.set_num_threads(1)
    tx = load_taxonomy()
    cfg = TrainConfig(steps=4, batch_size=4, resolution=32, channels=(16, 16, 16), checkpoint_every=2, warmup=2)
    straight = train(tmp_path / "a", tmp_path / "ca", tx, SpecEncoder(fake_embed, DIM), "fake", cfg)
    train(tmp_path / "b", tmp_path / "cb", tx, SpecEncoder(fake_embed, DIM), "fake",
          TrainConfig(**{**cfg.__dict__, "steps": 2}))
    resumed = train(tmp_path / "b", tmp_path / "cb", tx, SpecEncoder(fake_embed, DIM), "fake", cfg)
    assert resumed.config.trained_steps == 4
    for (k, p), q in zip(straight.unet.state_dict().items(), resumed.unet.state_dict().values()):
        assert torch.allclose(p, q, atol=1e-6), k
    loaded = TrendloomDiffusion.from_pretrained(tmp_path / "b", embed=fake_embed, embedder_name="fake")
    assert loaded.config.heldout == straight.config.heldout


def tiny_sd_pipeline(path):
    """A Stable Diffusion pipeline with random tiny components and the shipped MiniLM tokenizer."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import AutoTokenizer, CLIPTextConfig, CLIPTextModel

    from matching.embeddings import default_embedder_path

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(default_embedder_path())
    tokenizer.model_max_length = 16
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, intermediate_size=37, num_attention_heads=4,
        num_hidden_layers=2, max_position_embeddings=16, bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id))
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, norm_num_groups=4, attention_head_dim=4)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        norm_num_groups=4, sample_size=16)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=DDIMScheduler(), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(path)


def test_any_diffusers_pipeline_loads_from_a_folder_and_is_seeded(tmp_path):
    from generation.images.pipeline import DiffusersText2Image, prompt_for

    tiny_sd_pipeline(tmp_path / "sd")
    gen = DiffusersText2Image.from_pretrained(tmp_path / "sd", steps=2, guidance_scale=2.0, size=16)
    assert type(gen.pipe).__name__ == "StableDiffusionPipeline"
    a = gen.generate(SPEC, n=2, seed=3)
    b = gen.generate(SPEC, n=2, seed=3)
    assert len(a) == 2 and a[0].size == (16, 16) and a[0].mode == "RGB"
    assert np.array_equal(np.asarray(a[0]), np.asarray(b[0]))
    assert "navy stripe stainless steel tumbler" in prompt_for(SPEC)


def test_diffusers_backend_rejects_a_folder_that_is_not_a_pipeline(tmp_path):
    from generation.images.pipeline import DiffusersText2Image

    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageModelError, match="no model_index.json"):
        DiffusersText2Image.from_pretrained(tmp_path / "empty")


class OracleUNet(torch.nn.Module):
    """Predicts the exact noise that separates its input from one known clean image."""

    def __init__(self, x0: torch.Tensor, patch: int) -> None:
        super().__init__()
        from generation.images.diffusion import training_schedule

        self.x0 = torch.nn.functional.pixel_unshuffle(x0, patch)
        self.alphas = training_schedule().alphas_cumprod

    def forward(self, h, t, encoder_hidden_states=None, class_labels=None):
        a = self.alphas[int(t)]
        x0 = self.x0.repeat(h.shape[0] // self.x0.shape[0], 1, 1, 1)  # guidance doubles the batch
        eps = (h - a.sqrt() * x0) / (1 - a).sqrt()
        return type("Out", (), {"sample": eps})()


@pytest.mark.parametrize("scheduler", ["dpm-solver", "ddim"])
def test_sampling_with_a_perfect_denoiser_returns_the_clean_image(scheduler):
    """Known answer for the sampling loop: if the UNet knew the noise exactly, every scheduler (with
    guidance, thresholding and the pixel shuffle) must land on the clean image."""
    from generation.images.flat import render_flat

    x0 = torch.from_numpy(np.asarray(render_flat(SPEC, load_taxonomy(), size=32), dtype=np.float32))
    x0 = (x0.permute(2, 0, 1)[None] / 127.5 - 1.0).repeat(2, 1, 1, 1)  # (2, 3, 32, 32)
    config = ImageModelConfig(resolution=32, embedder="fake", embed_dim=DIM, steps=20)
    model = TrendloomDiffusion(OracleUNet(x0, config.patch), config, fake_embed, scheduler=scheduler)
    out = np.stack([np.asarray(im, dtype=np.float32) for im in model.generate(SPEC, n=2, seed=0)])
    truth = (x0.permute(0, 2, 3, 1).numpy() + 1) * 127.5
    assert np.abs(out - truth).mean() < 2.0  # within 2 grey levels on average
