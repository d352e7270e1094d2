"""What goes together: post co-occurrence and series correlation, known answers; the composer obeys them."""

import math
from datetime import date, timedelta

import numpy as np
import pytest

from generation.concepts.composer import ConceptComposer, Pins
from generation.taxonomy import load_taxonomy
from generation.trends.cooccur import Compatibility, Pair, post_pairs, series_pairs
from generation.trends.frame import TrendFrame
from generation.trends.mapping import PostMatch
from generation.trends.rising import TrendSignal

TX = load_taxonomy()


def _posts() -> list[PostMatch]:
    """100 dress posts: navy+silk together 45 times, navy alone 5, silk alone 5, red+linen 45."""
    out = [PostMatch("dress", {"color": ["navy"], "material": ["silk"]}, "keyword") for _ in range(45)]
    out += [PostMatch("dress", {"color": ["navy"]}, "keyword") for _ in range(5)]
    out += [PostMatch("dress", {"material": ["silk"]}, "keyword") for _ in range(5)]
    out += [PostMatch("dress", {"color": ["red"], "material": ["linen"]}, "keyword") for _ in range(45)]
    return out + [PostMatch(None, {}, "unmapped")]


def test_post_lift_known_answer():
    pairs = {(p.a, p.b): p for p in post_pairs(_posts())}
    together = pairs[(("color", "navy"), ("material", "silk"))]
    # n = 100, n_navy = 50, n_silk = 50, n_both = 45: expected 25, shrunk log lift log(46 / 26)
    assert together.score == pytest.approx(math.log(46 / 26)) and together.support == 45
    assert together.verdict == "together"
    apart = pairs[(("color", "navy"), ("material", "linen"))]
    # never together though 50 * 45 / 100 = 22.5 were expected
    assert apart.score == pytest.approx(math.log(1 / 23.5)) and apart.verdict == "avoid"
    assert post_pairs(_posts()[:10]) == []  # too few posts to say anything


def test_series_correlation_known_answer():
    n = 156
    rng = np.random.default_rng(0)
    t = np.arange(n)
    season = 1 + 0.3 * np.cos(2 * np.pi * t / 52)
    wave = np.sin(2 * np.pi * t / 30)
    a = 0.05 * season * np.exp(0.4 * wave)
    b = 0.05 * season * np.exp(-0.4 * wave)  # moves against a
    c = 0.05 * season * np.exp(0.1 * rng.normal(size=n))  # unrelated
    names = ("cn_all_dress_color_navy", "cn_all_dress_material_silk", "cn_all_dress_pattern_floral")
    frame = TrendFrame(tuple(date(2022, 1, 3) + timedelta(weeks=i) for i in range(n)), names, np.stack([a, b, c], 1))
    pairs = series_pairs(frame)
    assert len(pairs) == 1
    (p,) = pairs
    assert p.score == pytest.approx(-1.0, abs=1e-2) and p.verdict == "avoid" and p.source == "series"
    assert series_pairs(TrendFrame(frame.weeks[:60], names, frame.values[:60])) == []  # under 62 weeks


def test_compatibility_vetoes_pairs_in_the_composer():
    sig = [TrendSignal(f"cn_all_dress_{k}_{a}", 0.5, 0.3, 0.7, 0.05, "rising", "forecast")
           for k, a in (("color", "navy"), ("material", "silk"), ("material", "linen"))]
    plain = ConceptComposer(TX, sig, top_k=3).compose(8, pins=Pins(category="dress", attributes=(("color", "navy"),)), seed=1)
    assert any(s.material == "silk" for s in plain)
    avoid = Pair("dress", ("color", "navy"), ("material", "silk"), -2.0, -3.0, -1.0, 0, "posts")
    compat = Compatibility([avoid])
    assert compat.incompatible("dress", ("material", "silk"), ("color", "navy")) and len(compat) == 1
    vetoed = ConceptComposer(TX, sig, top_k=3, compatibility=compat).compose(
        8, pins=Pins(category="dress", attributes=(("color", "navy"),)), seed=1)
    assert all(s.material != "silk" for s in vetoed) and all(s.color == "navy" for s in vetoed)
