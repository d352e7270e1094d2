"""Benchmark the product-language module (`generation.language`) on real and labelled text.

    python scripts/bench_language.py --myntra styles.csv --hm articles.csv --gtrends google_trends.csv \
        [--zh scripts/data/zh_titles.jsonl] [--zh-posts scripts/data/zh_posts.jsonl] [--split dev|test|all]

- Myntra "Fashion Product Images" `styles.csv` (productDisplayName, articleType, baseColour) and H&M's
  `articles.csv` (prod_name + detail_desc, product_type_name, colour_group_name): category precision and
  recall where the taxonomy has the category, colour at family level ("Navy Blue" and "Blue" are one
  family). The truth tables below say which of their types and colours are ours; types that are only
  partly ours ("Casual Shoes": sneakers and loafers) are left out of both figures.
- Chinese titles, and English and Chinese posts (our labelled JSONL, written by people who had not
  seen the lexicon): precision, recall and accuracy per field; posts through the posts pipeline
  (`generation.trends.mapping.match_post`), which keeps only attributes that apply to the category.
- A real Google Trends export with free series names (`trend_id,source,week,raw_signal`): how many of
  its series map to the right (kind, attribute), how many to a wrong one, how many stay unmapped.
- Speed: titles per second on one core once loaded, against the obvious alternative (substring search
  of every term, first mention wins: what trendloom did before) in the same run.

`--split` picks the rows: dev (even row numbers; what the lexicon was tuned on), test (odd; never
looked at while tuning) or all. Nothing here is part of `make test`.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.language.extract import Extraction, ProductLanguage  # noqa: E402
from generation.language.lexicon import TermIndex, normalise  # noqa: E402
from generation.language.series import map_series_name  # noqa: E402
from generation.taxonomy import Taxonomy, load_taxonomy  # noqa: E402
from generation.trends.mapping import PostMatch, match_post  # noqa: E402

SKIP = "?"  # a type or colour that is only partly ours: left out of the figures

MYNTRA_TYPES = {
    "Tshirts": "t-shirt", "Dresses": "dress", "Sweatshirts": "hoodie", "Leggings": "leggings", "Jeggings": SKIP,
    "Sports Shoes": "sneakers", "Caps": "cap", "Scarves": "scarf", "Stoles": "scarf", "Mufflers": "scarf",
    "Shawl": "scarf", "Socks": "socks", "Stockings": "tights", "Tights": "tights", "Water Bottle": "tumbler",
    "Cushion Covers": "cushion-cover", "Casual Shoes": SKIP, "Hat": SKIP, "Handbags": SKIP, "Mobile Pouch": SKIP,
    "Tops": SKIP, "Lounge Tshirts": "t-shirt", "Rain Jacket": None, "Tracksuits": SKIP,
}
HM_TYPES = {
    "T-shirt": "t-shirt", "Dress": "dress", "Hoodie": "hoodie", "Leggings/Tights": SKIP, "Socks": "socks",
    "Sneakers": "sneakers", "Scarf": "scarf", "Cap/peaked": "cap", "Underwear Tights": "tights", "Bag": SKIP,
    "Top": SKIP, "Vest top": SKIP, "Sweater": SKIP, "Hat/beanie": None, "Hat/brim": None, "Polo shirt": SKIP,
    "Other shoe": SKIP, "Blanket": "throw-blanket", "Cushion": "cushion-cover", "Towel": SKIP,
}
FAMILIES = {  # a retailer's colour name -> our colour family (None: no family of ours; SKIP: mixed)
    "black": "black", "white": "white", "off white": "white", "cream": "white", "blue": "blue", "navy blue": "blue",
    "dark blue": "blue", "light blue": "blue", "turquoise blue": "blue", "brown": "brown", "coffee brown": "brown",
    "mushroom brown": "brown", "tan": "brown", "grey": "grey", "grey melange": "grey", "charcoal": "grey",
    "dark grey": "grey", "light grey": "grey", "red": "red", "maroon": "red", "burgundy": "red", "dark red": "red",
    "light red": "red", "green": "green", "olive": "green", "sea green": "green", "lime green": "green",
    "fluorescent green": "green", "dark green": "green", "light green": "green", "pink": "pink",
    "light pink": "pink", "dark pink": "pink", "magenta": "pink", "rose": "pink", "purple": "purple",
    "lavender": "purple", "mauve": "purple", "dark purple": "purple", "light purple": "purple", "yellow": "yellow",
    "mustard": "yellow", "dark yellow": "yellow", "light yellow": "yellow", "beige": "beige", "khaki": "beige",
    "light beige": "beige", "dark beige": "beige", "nude": "beige", "orange": "orange", "peach": "orange",
    "rust": "orange", "dark orange": "orange", "light orange": "orange", "gold": "gold", "silver": "silver",
    "greenish khaki": SKIP, "yellowish brown": SKIP, "greyish beige": SKIP, "teal": SKIP, "skin": SKIP,
    "taupe": SKIP, "steel": SKIP, "multi": SKIP, "metallic": SKIP, "bronze": SKIP, "copper": SKIP,
}
# the 36 series of the Google Trends export, by hand: (kind, attribute) or None where the taxonomy has no word
GTRENDS_TRUTH: dict[str, tuple[str, str] | None] = {
    "color_butter_yellow": ("color", "butter-yellow"), "color_cherry_red": ("color", "red"),
    "color_chocolate_brown": ("color", "brown"), "color_cobalt_blue": ("color", "cobalt"),
    "color_coral": ("color", "coral"), "color_forest_green": ("color", "forest-green"),
    "color_hot_pink": ("color", "pink"), "color_metallic_silver": ("color", "silver"),
    "color_sage_green": ("color", "sage-green"), "color_slate_gray": ("color", "grey"),
    "color_soft_lilac": ("color", "lavender"), "color_teal": None,
    "fabric_cashmere": ("material", "cashmere"), "fabric_corduroy": ("material", "corduroy"),
    "fabric_crochet": None, "fabric_denim": ("material", "denim"), "fabric_leather": ("material", "leather"),
    "fabric_linen": ("material", "linen"), "fabric_mesh": ("material", "mesh"), "fabric_satin": ("material", "satin"),
    "fabric_silk": ("material", "silk"), "fabric_terry": ("material", "terry"), "fabric_tweed": ("material", "tweed"),
    "fabric_velvet": ("material", "velvet"), "silhouette_A-line_skirt": ("silhouette", "a-line"),
    "silhouette_baby_tee": ("silhouette", "slim"), "silhouette_baggy_jeans": ("silhouette", "oversized"),
    "silhouette_bomber_jacket": None, "silhouette_cargo_pants": None,
    "silhouette_cropped_cardigan": ("silhouette", "cropped"), "silhouette_maxi_skirt": ("silhouette", "maxi"),
    "silhouette_oversized_blazer": ("silhouette", "oversized"), "silhouette_pencil_skirt": None,
    "silhouette_slip_dress": ("silhouette", "slip"), "silhouette_trench_coat": None,
    "silhouette_wide-leg_trousers": ("silhouette", "wide-leg"),
}


def in_split(i: int, split: str) -> bool:
    return split == "all" or (i % 2 == 0) == (split == "dev")


def pr(pairs: Sequence[tuple[str | None, str | None]]) -> dict[str, float | int]:
    """Precision over predictions made, recall over truths that exist, accuracy over all (None == None)."""
    made = [(t, p) for t, p in pairs if p is not None]
    exist = [(t, p) for t, p in pairs if t is not None]
    return {"n": len(pairs),
            "precision": round(sum(t == p for t, p in made) / max(1, len(made)), 3),
            "recall": round(sum(t == p for t, p in exist) / max(1, len(exist)), 3),
            "accuracy": round(sum(t == p for t, p in pairs) / max(1, len(pairs)), 3)}


Row = tuple[str, str | None, str | None, str]  # text, category or SKIP, colour family or SKIP, retailer's colour


def retail(rows: list[Row], read: Callable[[str], Extraction],
           family: Callable[[str | None], str | None]) -> dict[str, dict[str, float | int]]:
    """Category, colour family over every row with a known family, and colour family over the rows
    whose text states the retailer's own colour name (a title without a colour cannot be read for one)."""
    cats, cols, stated = [], [], []
    for text, cat, fam, colour in rows:
        e = read(text)
        if cat != SKIP:
            cats.append((cat, e.category))
        if fam != SKIP and fam is not None:
            cols.append((fam, family(e.color)))
            if re.search(rf"\b{re.escape(colour)}\b", text, re.IGNORECASE):
                stated.append((fam, family(e.color)))
    return {"category": pr(cats), "colour family": pr(cols), "colour family, stated": pr(stated)}


def myntra_rows(path: Path, split: str) -> list[Row]:
    out = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        rows = csv.reader(fh)
        next(rows)
        for i, r in enumerate(rows):
            if len(r) < 10 or not in_split(i, split):
                continue
            name = ",".join(r[9:])
            out.append((name, MYNTRA_TYPES.get(r[4]), FAMILIES.get(r[5].strip().lower(), SKIP), r[5].strip()))
    return out


def hm_rows(path: Path, split: str) -> list[Row]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh)):
            if in_split(i, split):
                out.append((f"{r['prod_name']}. {r['detail_desc']}", HM_TYPES.get(r["product_type_name"]),
                            FAMILIES.get(r["colour_group_name"].strip().lower(), SKIP), r["colour_group_name"]))
    return out


def labelled(path: Path, split: str, read: Callable[[str], Extraction], *,
             ours_only: bool = False) -> dict[str, dict[str, float | int]]:
    """Per field over the labelled rows; with `ours_only`, attributes only on rows about a product of
    ours (a post about jeans feeds no series: its colour is not a trend signal of ours)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for i, r in enumerate(rows) if in_split(i, split)]
    got = [read(r["text"]) for r in rows]
    out = {"category": pr([(r["category"], e.category) for r, e in zip(rows, got)])}
    for f in ("color", "material", "pattern"):
        out[f] = pr([(r[f], getattr(e, f)) for r, e in zip(rows, got) if r["category"] or not ours_only])
    return out


def gtrends(path: Path, taxonomy: Taxonomy, language: ProductLanguage) -> dict[str, object]:
    with path.open(encoding="utf-8") as fh:
        names = list(dict.fromkeys(r["trend_id"] for r in csv.DictReader(fh)))
    right, wrong, unmapped = [], [], []
    for name in names:
        m = map_series_name(name, taxonomy, language)
        got = (m.kind, m.attribute) if m.kind is not None else None
        truth = GTRENDS_TRUTH.get(name)
        if got is None:
            unmapped.append(name)
        elif got == truth:
            right.append(name)
        else:
            wrong.append(f"{name} -> {got}")
    return {"series": len(names), "right": len(right), "wrong": wrong, "unmapped": unmapped}


def as_extraction(m: PostMatch, text: str) -> Extraction:
    """A post's mapping as the fields scored: its category and the first attribute of each kind."""
    first = {kind: names[0] for kind, names in m.attributes.items() if names}
    return Extraction(text, category=m.category, color=first.get("color"), material=first.get("material"),
                      pattern=first.get("pattern"))


class SubstringBaseline:
    """The obvious alternative: every term searched as a substring, first category and colour win."""

    def __init__(self, index: TermIndex) -> None:
        keys = sorted(index.terms, key=len, reverse=True)
        self.terms = index.terms
        self.pattern = re.compile("|".join(re.escape(k) for k in keys))

    def extract(self, text: str) -> Extraction:
        found: dict[str, str] = {}
        for m in self.pattern.finditer(normalise(text)):
            for kind, name in self.terms[m.group()]:
                found.setdefault(kind, name)
        return Extraction(text, category=found.get("category"), color=found.get("color"),
                          material=found.get("material"), pattern=found.get("pattern"))


def speed(texts: list[str], read: Callable[[str], Extraction]) -> float:
    start = time.perf_counter()
    for t in texts:
        read(t)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--myntra", type=Path)
    ap.add_argument("--hm", type=Path)
    ap.add_argument("--gtrends", type=Path)
    ap.add_argument("--zh", type=Path, default=Path(__file__).with_name("data") / "zh_titles.jsonl")
    ap.add_argument("--zh-posts", type=Path, default=Path(__file__).with_name("data") / "zh_posts.jsonl")
    ap.add_argument("--en-posts", type=Path, default=Path(__file__).with_name("data") / "en_posts.jsonl")
    ap.add_argument("--split", choices=("dev", "test", "all"), default="test")
    args = ap.parse_args()
    taxonomy = load_taxonomy()
    t0 = time.perf_counter()
    language = ProductLanguage(taxonomy)
    report: dict[str, object] = {"split": args.split, "load_s": round(time.perf_counter() - t0, 2)}
    baseline = SubstringBaseline(language.index)
    family = language.color_family
    for label, path, rows_of in (("myntra", args.myntra, myntra_rows), ("hm", args.hm, hm_rows)):
        if path is not None:
            rows = rows_of(path, args.split)
            report[label] = retail(rows, language.extract, family)
            report[f"{label} (substring baseline)"] = retail(rows, baseline.extract, family)
    if args.zh.exists():
        report["zh titles"] = labelled(args.zh, args.split, language.extract)
        report["zh titles (substring baseline)"] = labelled(args.zh, args.split, baseline.extract)
    for label, path in (("en posts", args.en_posts), ("zh posts", args.zh_posts)):
        if path.exists():  # through the posts pipeline: attributes only where they apply to the category
            report[label] = labelled(path, args.split, lambda text: as_extraction(match_post(language, text), text),
                                     ours_only=True)
            report[f"{label} (substring baseline)"] = labelled(path, args.split, baseline.extract, ours_only=True)
            report[f"{label}, every attribute the text names"] = labelled(path, args.split, language.extract)
    if args.gtrends is not None:
        report["google trends series"] = gtrends(args.gtrends, taxonomy, language)
    texts = [r[0] for r in myntra_rows(args.myntra, "all")][:20_000] if args.myntra else []
    zh = [json.loads(x)["text"] for x in args.zh.read_text(encoding="utf-8").splitlines()] if args.zh.exists() else []
    for label, sample in (("en", texts), ("zh", zh * max(1, 5000 // max(1, len(zh))))):
        if sample:
            ours, base = speed(sample, language.extract), speed(sample, baseline.extract)
            report[f"titles/s {label}"] = {"ours": round(ours), "substring baseline": round(base),
                                           "ratio": round(ours / base, 2)}
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
