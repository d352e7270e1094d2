"""A synthetic factory registry: a few hundred plausible factories in real industrial belts.

Used for demos, sample data and tests of matching and allocation. Each belt below is a real
cluster with its real specialities (Haining and Zhuji hosiery, Humen women's wear, Jinjiang
sneakers, Yiwu small goods, ...); the companies themselves are invented. Category, material and
process names are the slugs of `generation/taxonomy.json`, written out here as literal data because
`matching` must not import `generation` (tests check that the two agree).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from matching.factories.registry import Factory


class CategoryProfile(NamedTuple):
    processes: tuple[str, ...]  # what the taxonomy requires of any factory making the category
    lead_days: int  # usual bulk lead time, order to shipment
    output_per_worker: int  # pieces per worker per month (sets the head count)
    trades: tuple[str, ...]  # words for a company name whose main product is this category


CATEGORY_PROFILES: dict[str, CategoryProfile] = {
    "t-shirt": CategoryProfile(("knitting", "cut-and-sew"), 22, 600, ("Garment", "Apparel", "Knitwear")),
    "dress": CategoryProfile(("weaving", "cut-and-sew"), 25, 250, ("Garment", "Fashion", "Clothing")),
    "hoodie": CategoryProfile(("knitting", "cut-and-sew"), 28, 350, ("Garment", "Knitwear", "Apparel")),
    "leggings": CategoryProfile(("knitting", "cut-and-sew"), 22, 600, ("Sportswear", "Seamless Knitting")),
    "sneakers": CategoryProfile(("shoe-lasting", "cut-and-sew", "injection-molding"), 45, 250,
                                ("Shoes", "Footwear", "Sporting Goods")),
    "tote-bag": CategoryProfile(("cut-and-sew", "printing"), 20, 600, ("Bags", "Luggage", "Handbag")),
    "cap": CategoryProfile(("cut-and-sew", "embroidery"), 18, 700, ("Headwear", "Caps", "Accessories")),
    "scarf": CategoryProfile(("weaving", "printing"), 18, 1500, ("Scarves", "Silk", "Neckwear")),
    "socks": CategoryProfile(("knitting",), 15, 4000, ("Hosiery", "Socks", "Knitting")),
    "tights": CategoryProfile(("knitting", "dyeing"), 18, 3000, ("Hosiery", "Knitting")),
    "cleaning-cloth": CategoryProfile(("weaving", "cutting"), 15, 8000,
                                      ("Cleaning Products", "Household Products")),
    "cushion-cover": CategoryProfile(("weaving", "cut-and-sew"), 22, 900, ("Home Textiles", "Textile")),
    "throw-blanket": CategoryProfile(("weaving", "cut-and-sew"), 28, 400, ("Home Textiles", "Blanket")),
    "phone-case": CategoryProfile(("injection-molding", "printing"), 20, 3000,
                                  ("Electronic Technology", "Technology", "Plastic Products")),
    "tumbler": CategoryProfile(("stamping", "welding", "printing"), 40, 800,
                               ("Drinkware", "Hardware", "Industry & Trade")),
}

CN_BRANDS: tuple[str, ...] = (
    "Jiaxin", "Hengyuan", "Xinhe", "Ruifeng", "Huamei", "Yongsheng", "Tianyi", "Jinfa", "Meilun",
    "Haoyu", "Baorun", "Chenguang", "Dingsheng", "Fuda", "Guanghua", "Hongtai", "Jiahe", "Kaiyue",
    "Lihua", "Mingda", "Qiaosheng", "Shunfa", "Tongda", "Weixing", "Xiangyu", "Yida", "Zhongxin",
    "Huasheng", "Lianfa", "Boyuan", "Chengxin", "Fengyuan", "Hengfeng", "Jinlong", "Kangda",
    "Longsheng", "Mingyang", "Ronghua", "Shengtai", "Tianhong", "Wanli", "Xinyu", "Yuanfeng", "Zhenhua",
)
VN_BRANDS: tuple[str, ...] = ("Phu Thinh", "Tan Thanh", "Hoang Long", "Minh Phat", "An Phuoc", "Thai Binh")
BD_BRANDS: tuple[str, ...] = ("Meghna", "Padma", "Jamuna", "Rupsha", "Shanta", "Sonar Bangla")


@dataclass(frozen=True)
class Belt:
    """An industrial cluster and the kind of factory found there."""

    city: str
    region: str  # province (China) or its equivalent
    products: Mapping[str, tuple[str, ...]]  # category -> materials the belt works in for it
    extra_processes: tuple[str, ...]  # processes beyond the categories' own, each factory has some
    weight: int  # share of the registry (about factories per 240)
    small_share: float  # chance that a factory here is a small-batch workshop
    oem_moq: tuple[int, int]  # MOQ range of the bulk (OEM) factories, pieces per design
    oem_capacity: tuple[int, int]  # capacity range of the bulk factories, pieces per month
    quality: tuple[float, float]
    price: tuple[float, float]
    districts: tuple[str, ...] = ("",)  # town or district put in company names
    country: str = "CN"
    brands: tuple[str, ...] = CN_BRANDS
    city_in_name: bool = True


BELTS: tuple[Belt, ...] = (
    Belt("Haining", "Zhejiang", {
        "socks": ("cotton", "nylon", "spandex", "bamboo-fiber", "wool"), "tights": ("nylon", "spandex"),
        "throw-blanket": ("polyester", "microfiber", "fleece"), "cushion-cover": ("polyester", "cotton"),
    }, ("dyeing", "printing", "embroidery", "quilting", "cutting"), 18, 0.15, (1000, 3000),
        (50_000, 300_000), (0.85, 0.95), (1.10, 1.40), ("", "Xucun", "Maqiao")),
    Belt("Zhuji", "Zhejiang", {
        "socks": ("cotton", "nylon", "spandex", "bamboo-fiber"), "tights": ("nylon", "spandex"),
    }, ("dyeing", "printing"), 24, 0.12, (1000, 3000), (80_000, 300_000), (0.55, 0.72),
        (0.70, 0.80), ("Datang",)),
    Belt("Foshan", "Guangdong", {
        "leggings": ("nylon", "spandex", "polyester", "recycled-polyester"),
        "hoodie": ("cotton", "polyester", "fleece", "recycled-polyester"),
        "t-shirt": ("cotton", "polyester", "recycled-polyester", "bamboo-fiber"),
    }, ("printing", "embroidery", "dyeing", "cutting"), 18, 0.40, (500, 2000), (20_000, 150_000),
        (0.70, 0.88), (0.90, 1.20), ("Nanhai", "Shunde")),
    Belt("Yiwu", "Zhejiang", {
        "cap": ("cotton", "polyester", "canvas", "denim", "corduroy", "nylon"),
        "scarf": ("polyester", "cotton", "wool"), "tote-bag": ("canvas", "cotton", "polyester", "nylon"),
        "phone-case": ("silicone", "tpu"), "cleaning-cloth": ("microfiber", "cotton", "bamboo-fiber"),
        "socks": ("cotton", "nylon", "spandex"), "leggings": ("nylon", "spandex"),
    }, ("printing", "embroidery", "cutting", "dyeing"), 24, 0.70, (500, 2000), (20_000, 200_000),
        (0.60, 0.82), (0.75, 1.00)),
    Belt("Guangzhou", "Guangdong", {
        "dress": ("polyester", "cotton", "linen", "silk", "denim"),
        "t-shirt": ("cotton", "organic-cotton", "polyester", "linen"),
        "hoodie": ("cotton", "fleece", "polyester"),
    }, ("printing", "embroidery", "pressing", "dyeing", "cutting"), 30, 0.70, (500, 1500),
        (20_000, 100_000), (0.70, 0.90), (0.95, 1.30), ("Panyu", "Zengcheng", "Haizhu", "Baiyun")),
    Belt("Dongguan", "Guangdong", {
        "dress": ("polyester", "silk", "cotton", "linen", "corduroy"), "t-shirt": ("cotton", "polyester"),
    }, ("pressing", "embroidery", "printing", "cutting"), 16, 0.50, (500, 1500), (20_000, 80_000),
        (0.75, 0.92), (1.00, 1.35), ("Humen",)),
    Belt("Shenzhen", "Guangdong", {"phone-case": ("tpu", "silicone", "vegan-leather")},
         ("cutting",), 10, 0.35, (1000, 3000), (50_000, 300_000), (0.75, 0.92), (0.90, 1.25),
         ("Bao'an", "Longgang", "Longhua")),
    Belt("Yongkang", "Zhejiang", {"tumbler": ("stainless-steel",)},
         ("injection-molding", "cutting"), 8, 0.25, (500, 2000), (20_000, 150_000), (0.70, 0.88),
         (0.85, 1.15)),
    Belt("Taizhou", "Zhejiang", {
        "tumbler": ("tritan", "stainless-steel"), "cleaning-cloth": ("microfiber", "cotton"),
    }, ("injection-molding", "printing"), 8, 0.30, (1000, 3000), (30_000, 200_000), (0.65, 0.85),
        (0.80, 1.05), ("Huangyan", "Luqiao")),
    Belt("Jinjiang", "Fujian", {
        "sneakers": ("canvas", "leather", "vegan-leather", "polyester", "recycled-polyester", "cotton"),
    }, ("printing", "embroidery", "cutting"), 10, 0.20, (500, 3000), (20_000, 200_000), (0.72, 0.90),
        (0.90, 1.25), ("Chendai", "")),
    Belt("Putian", "Fujian", {"sneakers": ("leather", "vegan-leather", "canvas", "polyester")},
         ("printing", "cutting"), 6, 0.35, (500, 2000), (20_000, 100_000), (0.65, 0.85), (0.85, 1.15),
         ("Licheng", "Xiuyu")),
    Belt("Nantong", "Jiangsu", {
        "cushion-cover": ("cotton", "linen", "polyester", "corduroy", "organic-cotton"),
        "throw-blanket": ("cotton", "polyester", "fleece", "microfiber", "wool"),
    }, ("quilting", "embroidery", "printing", "dyeing", "cutting"), 14, 0.30, (500, 2000),
        (20_000, 150_000), (0.72, 0.90), (0.90, 1.20), ("Haimen", "Tongzhou")),
    Belt("Shaoxing", "Zhejiang", {
        "scarf": ("polyester", "silk", "cotton", "linen"), "dress": ("polyester", "silk", "linen", "cotton"),
        "cushion-cover": ("polyester", "linen"),
    }, ("printing", "dyeing", "pressing", "cutting"), 14, 0.40, (1000, 3000), (30_000, 200_000),
        (0.70, 0.88), (0.85, 1.15), ("Keqiao",)),
    Belt("Baigou", "Hebei", {
        "tote-bag": ("canvas", "polyester", "nylon", "leather", "vegan-leather", "denim", "cotton"),
    }, ("embroidery", "quilting", "cutting"), 10, 0.50, (500, 2000), (20_000, 100_000), (0.60, 0.82),
        (0.75, 1.00)),
    Belt("Shengzhou", "Zhejiang", {"scarf": ("silk", "polyester", "cashmere", "wool")},
         ("dyeing", "pressing", "cutting"), 8, 0.40, (500, 2000), (20_000, 100_000), (0.72, 0.90),
         (0.90, 1.20)),
    Belt("Changshu", "Jiangsu", {
        "hoodie": ("cotton", "fleece", "polyester"), "t-shirt": ("cotton", "polyester"),
        "dress": ("polyester", "cotton"),
    }, ("embroidery", "printing", "dyeing", "cutting"), 12, 0.35, (500, 2000), (20_000, 150_000),
        (0.72, 0.88), (0.90, 1.15)),
    Belt("Thuan An", "Binh Duong", {
        "sneakers": ("leather", "canvas", "recycled-polyester"), "t-shirt": ("cotton", "polyester"),
    }, ("printing", "embroidery"), 4, 0.0, (1000, 3000), (50_000, 300_000), (0.75, 0.90), (0.85, 1.10),
        country="VN", brands=VN_BRANDS, city_in_name=False),
    Belt("Gazipur", "Dhaka Division", {
        "t-shirt": ("cotton", "organic-cotton"), "hoodie": ("cotton", "fleece"),
    }, ("printing", "dyeing"), 4, 0.0, (2000, 3000), (100_000, 300_000), (0.60, 0.78), (0.60, 0.75),
        country="BD", brands=BD_BRANDS, city_in_name=False),
)

SMALL_MOQS: tuple[int, ...] = (50, 100, 150, 200, 300)
OEM_MOQS: tuple[int, ...] = (500, 800, 1000, 1200, 1500, 2000, 2500, 3000)
SMALL_CAPACITY: tuple[int, int] = (2_000, 20_000)
ANCHORS_PER_CATEGORY = 3  # fast small-batch factories guaranteed for every category


def make_factory_registry(n: int = 240, *, seed: int = 0, unique_names: bool = True) -> list[Factory]:
    """`n` invented factories in real industrial belts, the same ones for the same `seed`.

    First, for every category, three small-batch factories (MOQ <= 300, lead time <= 21 days) that
    can make it, so a winner in any category has somewhere fast to go; the rest are spread over
    the belts in proportion to their weight. The list is shuffled and numbered F0001, F0002, ...
    The category guarantee holds from n = 45 (15 categories x 3) up, every belt is present from
    n = 76 up; a smaller n gets the first anchors only. `n < 1` raises ValueError.
    `unique_names=False` skips the search for an unused company name (it grows with n; registries of
    tens of thousands for benchmarks) and names each factory after its belt and trade only.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1 factory, got {n}")
    rng = np.random.default_rng(seed)
    plan: list[tuple[Belt, str | None]] = []
    for category in CATEGORY_PROFILES:
        makers = sorted((b for b in BELTS if category in b.products and b.small_share > 0),
                        key=lambda b: -b.weight)
        plan += [(makers[i % len(makers)], category) for i in range(ANCHORS_PER_CATEGORY)]
    plan = plan[:n]
    for belt, count in zip(BELTS, _quotas([b.weight for b in BELTS], n - len(plan))):
        plan += [(belt, None)] * count
    names: set[str] | None = set() if unique_names else None
    built = [_make_factory(belt, rng, names, anchor) for belt, anchor in plan]
    order = rng.permutation(len(built))
    return [replace(built[j], factory_id=f"F{i + 1:04d}") for i, j in enumerate(order)]


def _quotas(weights: list[int], total: int) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder, ties to the earlier entry)."""
    if total <= 0:
        return [0] * len(weights)
    exact = [w * total / sum(weights) for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _make_factory(belt: Belt, rng: np.random.Generator, names: set[str] | None,
                  anchor: str | None) -> Factory:
    """One factory of `belt`; an `anchor` factory is small-batch, fast, and makes `anchor`.
    `names` holds the names taken so far; None: names need not be unique."""
    small = anchor is not None or bool(rng.random() < belt.small_share)
    offered = list(belt.products)
    n_cats = min(len(offered), int(rng.choice([1, 2, 3, 4], p=[0.35, 0.35, 0.2, 0.1])))
    first = anchor if anchor is not None else str(rng.choice(offered))
    others = [c for c in offered if c != first]
    picked = set(rng.choice(others, size=n_cats - 1, replace=False)) if n_cats > 1 else set()
    categories = (first, *(c for c in others if c in picked))

    materials: set[str] = set()
    for c in categories:  # at least one material per category, so each category can be made
        choices = belt.products[c]
        k = int(rng.integers(1, min(3, len(choices)) + 1))
        materials.update(str(m) for m in rng.choice(choices, size=k, replace=False))
    processes = {p for c in categories for p in CATEGORY_PROFILES[c].processes}
    processes.update(p for p in belt.extra_processes if rng.random() < 0.5)

    if small:
        moq = int(rng.choice(SMALL_MOQS))
        capacity = int(rng.integers(SMALL_CAPACITY[0] // 500, SMALL_CAPACITY[1] // 500 + 1)) * 500
    else:
        moq = int(rng.choice([m for m in OEM_MOQS if belt.oem_moq[0] <= m <= belt.oem_moq[1]]))
        lo, hi = belt.oem_capacity
        capacity = int(round(math.exp(rng.uniform(math.log(lo), math.log(hi))), -3))
        capacity = min(max(capacity, lo), hi)

    base = max(CATEGORY_PROFILES[c].lead_days for c in categories)
    lead = round(base * (0.75 if small else 1.1) * rng.uniform(0.8, 1.25))
    if anchor is not None:
        lead = min(lead, int(rng.integers(min(18, max(7, base // 2)), 22)))
    lead = min(max(lead, 7), 60)

    q_lo, q_hi = belt.quality
    quality = rng.uniform(q_lo, q_hi)
    p_lo, p_hi = belt.price  # price follows quality, plus noise; small batches cost a little more
    price = p_lo + (p_hi - p_lo) * (0.6 * (quality - q_lo) / (q_hi - q_lo) + 0.4 * rng.random())
    price = min(max(price + (0.05 if small else 0.0), 0.6), 1.6)
    workers = max(8, round(capacity / CATEGORY_PROFILES[first].output_per_worker * rng.uniform(0.8, 1.25)))

    return Factory(
        factory_id="", country=belt.country,
        name=(_company_name(belt, first, rng, names) if names is not None
              else f"{belt.city} {CATEGORY_PROFILES[first].trades[0]} Co., Ltd."),
        region=belt.region, city=belt.city, categories=categories, materials=tuple(sorted(materials)),
        processes=tuple(sorted(processes)), moq=moq, capacity=capacity, lead_time_days=int(lead),
        quality=round(float(quality), 2), price_index=round(float(price), 2), small_batch=moq <= 300,
        workers=int(workers),
    )


def _company_name(belt: Belt, category: str, rng: np.random.Generator, names: set[str]) -> str:
    """A company name not in `names` (then added to it), e.g. 'Haining Xucun Jiaxin Hosiery Co., Ltd.'."""
    attempt = 0
    while True:  # ends: past 100 tries the branch number grows until the name is new
        district = str(rng.choice(belt.districts))
        parts = [belt.city if belt.city_in_name else "", district, str(rng.choice(belt.brands)),
                 str(rng.choice(CATEGORY_PROFILES[category].trades))]
        if attempt >= 100:  # the word lists are used up for this belt: number the branch
            parts.append(f"No. {attempt - 98}")
        name = " ".join(p for p in parts if p) + " Co., Ltd."
        if name not in names:
            break
        attempt += 1
    names.add(name)
    return name
