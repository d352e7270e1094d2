"""Benchmark the trend forecaster: accuracy (MASE) against baselines, interval coverage, speed, and
the posts-mapping embedding threshold.

    .venv/bin/python scripts/bench_trends.py                 # everything (~15 min on 2 cores)
    .venv/bin/python scripts/bench_trends.py --quick         # fewer series, no TBATS (~1 min)
    .venv/bin/python scripts/bench_trends.py --only posts    # just the embedding-threshold study
    .venv/bin/python scripts/bench_trends.py --only accuracy --no-synthetic --wide-csv real.csv --tbats-series 100

Accuracy: every data set is 261 weeks (2015-2019 like the target data); the last 52 weeks are held
out. MASE = mean over series of (MAE over the 52 held-out weeks) / (in-sample MAE of the 52-week
seasonal naive forecast); series whose scale is 0 are left out (counted). Data sets: the repo's
sample generator (`synthetic.py`) and the five families of `suite.py`; none of them was used to
pick the forecaster's settings beyond the defaults documented in `forecast.py`. `--wide-csv FILE`
adds any real weekly series in the wide format (`trendloom trends forecast` reads the same files), e.g.
the 100 Instagram fashion series published with the HERMES paper (github.com/etidav/HERMES,
`data/f1_main_100_sequences.csv`; not shipped here). Such files are for checking, never for tuning.

Methods: seasonal naive; damped Holt-Winters (statsmodels, additive, heuristic start) on a subset;
the vectorised damped Holt-Winters of `models.py` (log scale, all series); trendloom's forecaster
(all series); TBATS (statsforecast AutoTBATS, season 52, Box-Cox/trend/damping/ARMA chosen by AIC)
on a smaller subset, with trendloom and seasonal naive scored on exactly that subset beside it.
The bench extra (`pip install -e '.[bench]'`) provides statsmodels and statsforecast.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.taxonomy import load_taxonomy  # noqa: E402
from generation.trends.forecast import forecast_frame  # noqa: E402
from generation.trends.frame import TrendFrame  # noqa: E402
from generation.trends.io import read_wide_csv  # noqa: E402
from generation.trends.models import holt_winters, seasonal_naive  # noqa: E402
from generation.trends.rising import rank_forecast  # noqa: E402
from generation.trends.suite import FAMILIES, make_family  # noqa: E402
from generation.trends.synthetic import make_trend_sample  # noqa: E402

H = 52
WEEKS = 261
END = date(2019, 12, 30)


def datasets(n: int, seed: int) -> dict[str, TrendFrame]:
    """The sample generator and every suite family, `n` series each (sample: all of its ~650)."""
    out = {"sample": make_trend_sample(load_taxonomy(), weeks=WEEKS, end=END, seed=seed + 100).frame}
    for fam in FAMILIES:
        out[fam] = make_family(fam, n_series=n, weeks=WEEKS, end=END, seed=seed)
    return out


def split(frame: TrendFrame) -> tuple[TrendFrame, np.ndarray]:
    train = TrendFrame(frame.weeks[:-H], frame.names, frame.values[:-H])
    return train, frame.values[-H:]


def mase_per_series(train: np.ndarray, test: np.ndarray, fc: np.ndarray) -> np.ndarray:
    """Each series' MASE; NaN where the scale (in-sample seasonal-naive MAE) is 0."""
    scale = np.abs(train[52:] - train[:-52]).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, np.abs(test - fc).mean(axis=0) / scale, np.nan)


def mase(train: np.ndarray, test: np.ndarray, fc: np.ndarray) -> tuple[float, int]:
    """(MASE averaged over series with a non-zero scale, how many series had scale 0)."""
    per = mase_per_series(train, test, fc)
    return float(np.nanmean(per)), int(np.isnan(per).sum())


def paired(ours: np.ndarray, other: np.ndarray, seed: int, draws: int = 10_000) -> dict[str, float]:
    """How often ours is better per series, and a bootstrap 95% interval (over series) of the relative
    change of the mean MASE, ours against `other` (negative = ours better)."""
    ok = ~(np.isnan(ours) | np.isnan(other))
    a, b = ours[ok], other[ok]
    idx = np.random.default_rng(seed).integers(len(a), size=(draws, len(a)))
    rel = a[idx].mean(axis=1) / b[idx].mean(axis=1) - 1
    return {"ours_better_share": round(float((a < b).mean()), 3), "relative_change": round(float(a.mean() / b.mean() - 1), 4),
            "ci95": [round(float(q), 4) for q in np.quantile(rel, [0.025, 0.975])]}


def vectorised_hw(train: np.ndarray) -> np.ndarray:
    c = np.maximum(0.1 * train.mean(axis=0), 1e-9)
    return np.maximum(np.exp(holt_winters(np.log(train + c), H)) - c, 0.0)


def _statsmodels_hw(y: np.ndarray) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    warnings.filterwarnings("ignore")
    fit = ExponentialSmoothing(y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=52,
                               initialization_method="heuristic").fit()
    return np.maximum(fit.forecast(H), 0.0)


def _tbats(y: np.ndarray) -> np.ndarray:
    from statsforecast.models import AutoTBATS

    warnings.filterwarnings("ignore")
    return np.maximum(AutoTBATS(season_length=52).forecast(y.astype(np.float64), h=H)["mean"], 0.0)


def per_series(fn: object, train: np.ndarray, cols: np.ndarray, workers: int) -> tuple[np.ndarray, float]:
    """Run a one-series-at-a-time baseline on `cols` in `workers` processes; (forecasts, seconds)."""
    t = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        fcs = list(pool.map(fn, [train[:, j].copy() for j in cols]))  # type: ignore[arg-type]
    return np.stack(fcs, axis=1), time.perf_counter() - t


def ranking(train: TrendFrame, test: np.ndarray, fc: object, window: int = 26) -> dict[str, object]:
    """How well the rising/fading ranking (`rank_forecast`, 95% intervals) foretold the held-out year:
    the realised growth is the same statistic on the actual weeks (mean log ratio of the next `window`
    weeks to the same weeks a year earlier, with the forecast's offset c)."""
    signals = {g.series: g for g in rank_forecast(train, fc, window=window)}  # type: ignore[arg-type]
    sig = [signals[n] for n in train.names]
    c = fc.offset  # type: ignore[attr-defined]
    realised = np.log((test[:window] + c) / (train.values[-52:-52 + window] + c)).mean(axis=0)
    growth = np.array([g.growth for g in sig])
    lo, hi = np.array([g.lo for g in sig]), np.array([g.hi for g in sig])
    moving = np.abs(growth) >= np.log1p(0.10)
    called = {d: np.array([g.direction == d for g in sig]) for d in ("rising", "fading")}
    return {"window": window, "corr_growth_realised": round(float(np.corrcoef(growth, realised)[0, 1]), 3),
            "coverage95": round(float(((realised >= lo) & (realised <= hi)).mean()), 3),
            "sign_right_when_10pct": round(float((np.sign(growth) == np.sign(realised))[moving].mean()), 3),
            "n_10pct": int(moving.sum()), "rising": int(called["rising"].sum()), "fading": int(called["fading"].sum()),
            "rising_realised_up": int((realised[called["rising"]] > 0).sum()),
            "fading_realised_down": int((realised[called["fading"]] < 0).sum())}


def accuracy(args: argparse.Namespace) -> dict[str, object]:
    rows: dict[str, dict[str, object]] = {}
    frames = {} if args.no_synthetic else datasets(args.series, args.seed)
    for path in args.wide_csv:
        frames[path.stem] = read_wide_csv(path)
        if len(frames[path.stem].weeks) < H + 104:
            raise SystemExit(f"{path}: {len(frames[path.stem].weeks)} weeks; the protocol needs at least {H + 104}")
    for name, frame in frames.items():
        train, test = split(frame)
        y = train.values
        t = time.perf_counter()
        fc = forecast_frame(train, H, level=0.8)
        ours_s = time.perf_counter() - t
        fc95 = forecast_frame(train, H, level=0.95)
        r: dict[str, object] = {"series": y.shape[1], "weeks": len(frame.weeks), "ours_s": round(ours_s, 2)}
        r["snaive"], r["zero_scale"] = mase(y, test, seasonal_naive(y, H))
        r["hw_vectorised"] = mase(y, test, vectorised_hw(y))[0]
        r["ours"] = mase(y, test, fc.mean)[0]
        r["coverage80"] = float(((test >= fc.lower) & (test <= fc.upper)).mean())
        r["coverage95"] = float(((test >= fc95.lower) & (test <= fc95.upper)).mean())
        r["methods"] = fc.method_counts()
        r["ranking"] = ranking(train, test, fc)
        rng = np.random.default_rng(args.seed)
        if args.hw_series:
            cols = np.sort(rng.choice(y.shape[1], size=min(args.hw_series, y.shape[1]), replace=False))
            hw, secs = per_series(_statsmodels_hw, y, cols, args.workers)
            r["hw_subset"] = {"n": len(cols), "hw_statsmodels": mase(y[:, cols], test[:, cols], hw)[0],
                              "ours": mase(y[:, cols], test[:, cols], fc.mean[:, cols])[0],
                              "snaive": mase(y[:, cols], test[:, cols], seasonal_naive(y[:, cols], H))[0],
                              "s_per_series": round(secs * args.workers / len(cols), 3)}
        if args.tbats_series:
            cols = np.sort(rng.choice(y.shape[1], size=min(args.tbats_series, y.shape[1]), replace=False))
            tb, secs = per_series(_tbats, y, cols, args.workers)
            ours_each = mase_per_series(y[:, cols], test[:, cols], fc.mean[:, cols])
            snaive_each = mase_per_series(y[:, cols], test[:, cols], seasonal_naive(y[:, cols], H))
            tbats_each = mase_per_series(y[:, cols], test[:, cols], tb)
            r["tbats_subset"] = {"n": len(cols), "tbats": float(np.nanmean(tbats_each)), "ours": float(np.nanmean(ours_each)),
                                 "snaive": float(np.nanmean(snaive_each)), "s_per_series": round(secs * args.workers / len(cols), 2),
                                 "ours_vs_tbats": paired(ours_each, tbats_each, args.seed),
                                 "ours_vs_snaive": paired(ours_each, snaive_each, args.seed)}
        rows[name] = r
        print(f"{name}: {json.dumps(r)}", file=sys.stderr, flush=True)
    return rows


def speed(args: argparse.Namespace) -> dict[str, object]:
    """10,000 series x 260 weeks (a mix of every family), forecast 52 weeks ahead + the ranking."""
    per = args.speed_series // len(FAMILIES)
    parts = [make_family(f, n_series=per, weeks=260, end=END, seed=args.seed + 7) for f in FAMILIES]
    values = np.concatenate([p.values for p in parts], axis=1)
    frame = TrendFrame(parts[0].weeks, tuple(f"s{i}" for i in range(values.shape[1])), values)
    t = time.perf_counter()
    fc = forecast_frame(frame, H)
    forecast_s = time.perf_counter() - t
    t = time.perf_counter()
    rank_forecast(frame, fc)
    rank_s = time.perf_counter() - t
    return {"series": values.shape[1], "weeks": 260, "forecast_s": round(forecast_s, 2), "rank_s": round(rank_s, 2)}


# Paraphrases that are NOT taxonomy names or synonyms (checked below): what the embedding stage is for.
PARAPHRASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("category", "dress"): ("gown", "evening gown", "slip gown"),
    ("category", "hoodie"): ("pullover", "hooded top"),
    ("category", "leggings"): ("gym pants", "workout pants"),
    ("category", "sneakers"): ("kicks", "sports shoes", "runners"),
    ("category", "tote-bag"): ("carryall", "shoulder bag", "handbag"),
    ("category", "cap"): ("visor", "headwear"),
    ("category", "scarf"): ("muffler", "neckerchief", "bandana"),
    ("category", "throw-blanket"): ("comforter", "bedspread"),
    ("category", "phone-case"): ("iphone shell", "smartphone sleeve"),
    ("category", "tumbler"): ("thermos", "flask", "insulated cup"),
    ("category", "cushion-cover"): ("pillowcase", "sofa pillow cover"),
    ("category", "cleaning-cloth"): ("rag", "duster", "kitchen wipe"),
    ("category", "t-shirt"): ("short sleeve top", "crewneck top"),
    ("color", "navy"): ("midnight blue",),
    ("color", "burgundy"): ("oxblood", "merlot"),
    ("color", "red"): ("crimson", "ruby"),
    ("color", "black"): ("ebony", "pitch dark"),
    ("color", "grey"): ("slate", "ash"),
    ("color", "brown"): ("mocha", "espresso", "cocoa"),
    ("color", "beige"): ("taupe", "ecru"),
    ("color", "olive"): ("moss", "military green"),
    ("color", "orange"): ("pumpkin",),
    ("color", "lavender"): ("mauve", "periwinkle"),
    ("color", "sky-blue"): ("powder blue", "pale blue"),
    ("color", "cobalt"): ("electric blue", "sapphire"),
    ("color", "mustard"): ("golden yellow", "saffron"),
    ("color", "pink"): ("fuchsia",),
    ("material", "wool"): ("lambswool",),
    ("material", "silk"): ("charmeuse",),
    ("material", "leather"): ("calfskin", "cowhide"),
    ("material", "fleece"): ("sherpa",),
    ("material", "nylon"): ("ripstop",),
    ("material", "cashmere"): ("pashmina",),
    ("pattern", "stripe"): ("stripy", "banded"),
    ("pattern", "check"): ("houndstooth", "windowpane"),
    ("pattern", "polka-dot"): ("dotty", "spotty"),
    ("pattern", "floral"): ("flowery", "daisy print"),
    ("pattern", "leopard"): ("jaguar print",),
    ("pattern", "camo"): ("military print",),
    ("pattern", "geometric"): ("chevron", "triangles"),
    ("silhouette", "oversized"): ("baggy", "relaxed fit"),
    ("silhouette", "slim"): ("skinny", "bodycon"),
    ("silhouette", "chunky"): ("thick sole",),
    ("silhouette", "flared"): ("bell bottom",),
    ("detail", "embroidery"): ("needlework", "stitched motif"),
    ("detail", "ruffles"): ("frilly",),
    ("detail", "pleats"): ("accordion folds",),
    ("detail", "pocket"): ("kangaroo pouch",),
}
OFF_TOPIC = (
    "sunday brunch with the girls", "traffic was terrible today", "my dog learned a new trick",
    "watching the football game tonight", "best ramen in town", "studying for finals all week",
    "what should i wear to the wedding", "outfit of the day, feeling good", "so tired after work",
    "rainy weekend, staying in", "new phone who dis", "birthday party vibes", "the sunset tonight was unreal",
    "gym was packed this morning", "coffee and a good book", "flight delayed again", "can't wait for summer",
    "trying a new recipe tonight", "concert tickets secured", "moving into my new apartment",
)
_TEMPLATES = ("loving my new {a} {c}", "this {a} {c} is so cute", "{a} {c} for the weekend",
              "found the perfect {a} {c} today", "can't stop wearing my {a} {c}")


def labelled_posts(seed: int) -> list[tuple[str, str | None, set[tuple[str, str]]]]:
    """(text, true category or None, true (kind, attribute) pairs) for paraphrase and off-topic posts."""
    from generation.language.extract import ProductLanguage

    tx = load_taxonomy()
    language = ProductLanguage(tx)
    # paraphrases the lexicon has since learned ("gown", "midnight blue") no longer test the embedding stage
    known = {w for words in PARAPHRASES.values() for w in words if language.mentions(w)}
    rng = np.random.default_rng(seed)
    cats = [(k, w) for k, ws in PARAPHRASES.items() if k[0] == "category" for w in ws if w not in known]
    attrs = [(k, w) for k, ws in PARAPHRASES.items() if k[0] != "category" for w in ws if w not in known]
    out: list[tuple[str, str | None, set[tuple[str, str]]]] = []
    for _ in range(240):
        (_, cat), cw = cats[int(rng.integers(len(cats)))]
        fits = [(k, w) for k, w in attrs if tx.attributes[k[0]][k[1]].applies_to(cat)]
        (kind, attr), aw = fits[int(rng.integers(len(fits)))]
        text = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))].format(a=aw, c=cw)
        out.append((text, cat, {(kind, attr)}))
    out += [(t, None, set()) for t in OFF_TOPIC for _ in range(3)]
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def _score(posts: list[tuple[str, str | None, set[tuple[str, str]]]], embed: object, *, threshold: float,
           attribute_threshold: float, given_category: bool) -> dict[str, float]:
    """Precision/recall of the embedding stage. With `given_category` every post arrives with its true
    category (as when keywords found it) and only attributes are scored."""
    from generation.trends.mapping import EmbeddingMapper, PostMatch

    tx = load_taxonomy()
    mapper = EmbeddingMapper(tx, embed, threshold=threshold, attribute_threshold=attribute_threshold)  # type: ignore[arg-type]
    if given_category:
        posts = [p for p in posts if p[1] is not None]
        matches = [PostMatch(category=p[1], how="keyword") for p in posts]
    else:
        matches = [PostMatch() for _ in posts]
    mapper.complete([p[0] for p in posts], matches)
    if given_category:
        pred = [set(m.pairs()) for m in matches]
        tp = sum(len(a & p[2]) for a, p in zip(pred, posts))
        n_pred, n_true = sum(len(a) for a in pred), sum(len(p[2]) for p in posts)
        return {"attribute_threshold": attribute_threshold, "assigned": n_pred,
                "precision": tp / n_pred if n_pred else float("nan"), "recall": tp / n_true}
    tp = sum(m.category == p[1] for m, p in zip(matches, posts) if m.category is not None)
    n_pred = sum(m.category is not None for m in matches)
    return {"threshold": threshold, "assigned": n_pred, "precision": tp / n_pred if n_pred else float("nan"),
            "recall": tp / sum(p[1] is not None for p in posts),
            "off_topic_mapped": sum(m.category is not None for m, p in zip(matches, posts) if p[1] is None)}


def posts_threshold_study(seed: int) -> dict[str, object]:
    """Precision/recall of the embedding stage (real MiniLM) by threshold: pick on one half, report the other.

    Rule: the lowest category threshold whose tuning-half precision is >= 0.95, and the lowest
    attribute threshold whose tuning-half precision is >= 0.8 with at least 5 assignments."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from matching.embeddings import TextEmbedder

    emb = TextEmbedder.from_pretrained()
    cache: dict[str, np.ndarray] = {}

    def embed(texts: object) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in cache]  # type: ignore[call-overload]
        if todo:
            for t, v in zip(todo, emb.encode(todo)):
                cache[t] = v
        return np.stack([cache[t] for t in texts])  # type: ignore[union-attr]

    posts = labelled_posts(seed)
    tune, held = posts[0::2], posts[1::2]
    grid = [round(float(x), 2) for x in np.arange(0.45, 0.86, 0.05)]
    t = time.perf_counter()
    cat_tune = [_score(tune, embed, threshold=th, attribute_threshold=0.99, given_category=False) for th in grid]
    att_tune = [_score(tune, embed, threshold=0.99, attribute_threshold=th, given_category=True) for th in grid]
    secs = time.perf_counter() - t
    cat_th = next((r["threshold"] for r in cat_tune if r["precision"] >= 0.95), grid[-1])
    att_th = next((r["attribute_threshold"] for r in att_tune if r["assigned"] >= 5 and r["precision"] >= 0.8), grid[-1])
    return {"posts": len(posts), "chosen": {"threshold": cat_th, "attribute_threshold": att_th},
            "category": {"tune": cat_tune, "held_out": [_score(held, embed, threshold=th, attribute_threshold=0.99,
                                                                given_category=False) for th in grid]},
            "attribute": {"tune": att_tune, "held_out": [_score(held, embed, threshold=0.99, attribute_threshold=th,
                                                                 given_category=True) for th in grid]},
            "study_s": round(secs, 1), "phrases_embedded": len(cache)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=1000, help="series per suite family")
    ap.add_argument("--hw-series", type=int, default=100, help="series per data set for statsmodels Holt-Winters")
    ap.add_argument("--tbats-series", type=int, default=30, help="series per data set for TBATS (0 = skip)")
    ap.add_argument("--speed-series", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--only", choices=("accuracy", "speed", "posts"), default=None)
    ap.add_argument("--quick", action="store_true", help="200 series per family, 20 for Holt-Winters, no TBATS")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--wide-csv", type=Path, action="append", default=[],
                    help="accuracy: also this wide CSV of weekly series (repeatable); its last 52 weeks are held out")
    ap.add_argument("--no-synthetic", action="store_true", help="accuracy: only the --wide-csv files")
    args = ap.parse_args()
    if args.quick:
        args.series, args.hw_series, args.tbats_series = 200, 20, 0
    out: dict[str, object] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                              "date": date.today().isoformat()}
    if args.only in (None, "speed"):
        out["speed"] = speed(args)
        print(f"speed: {json.dumps(out['speed'])}", file=sys.stderr, flush=True)
    if args.only in (None, "accuracy"):
        out["accuracy"] = accuracy(args)
    if args.only in (None, "posts"):
        out["posts"] = posts_threshold_study(args.seed)
    text = json.dumps(out, indent=1)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
