"""Real factory registries (for BENCHMARKS.md): import speed with de-duplication, merge precision and
recall, and planning on a real published list.

    .venv/bin/python scripts/bench_registry.py [--rows 100000] [--oar PAIRS.json] [--real LIST.csv] [--orders 60]

1. **Import of a synthetic registry** of `--rows` rows that look like a brand's supplier list (header
   "Factory Name, Address, City, Country, Sector, Product Type, Facility Type, Number of Workers,
   Parent Company"; Chinese, Bangladeshi, Vietnamese, Indian, Pakistani, Cambodian, Indonesian, Turkish
   and Sri Lankan names and addresses built from real place names; countries written as "China", "CN"
   or "CHINA"). About 10% of the rows are near-duplicates of another row (case, punctuation, legal
   suffix, a space inside a word, one typo, address spacing, "Road"/"Rd.", a trailing country) and 2%
   are siblings: the same company name at another address, which must stay separate. The whole import
   runs through the service (`factory_registry.import_registry`: read, map product types with the
   language module, de-duplicate, store in SQLite) in a fresh workspace, timed end to end; merges are
   scored against the planted truth.
2. **Merge precision and recall on hand-labelled pairs**: the Open Apparel Registry's `training.json`
   (47 match / 65 distinct pairs; `--oar`), each pair decided by `dedupe.match_pair`.
3. **A real list** (`--real`, e.g. Open Supply Hub's sample facility lists, 963 rows): imported into a
   fresh workspace (every row's outcome and reason), then `--orders` orders for the categories its
   sectors and product types map to are planned on it (`production.plan_orders`, the shipped MiniLM):
   pieces placed, pieces at material suppliers, unplaced pieces and their reasons.

Dev data (the OAR pairs, the real list) is read from where it lies and never written anywhere.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import os
import platform
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from matching.factories.countries import country_code
from matching.factories.dedupe import Site, Thresholds, match_pair

HEADER = ("Factory Name", "Address", "City", "Country", "Sector", "Product Type", "Facility Type", "Number of Workers",
          "Parent Company")
PLACES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    # country: (ways of writing it, (city, province), street words)
    "CN": (("China", "CN", "CHINA", "P.R. China"),
           (("Guangzhou", "Guangdong"), ("Dongguan", "Guangdong"), ("Shenzhen", "Guangdong"), ("Foshan", "Guangdong"),
            ("Ningbo", "Zhejiang"), ("Shaoxing", "Zhejiang"), ("Hangzhou", "Zhejiang"), ("Huzhou", "Zhejiang"),
            ("Suzhou", "Jiangsu"), ("Nantong", "Jiangsu"), ("Changzhou", "Jiangsu"), ("Quanzhou", "Fujian"),
            ("Jinjiang", "Fujian"), ("Xiamen", "Fujian"), ("Qingdao", "Shandong"), ("Yantai", "Shandong")),
           ("Xingye", "Jinhu", "Changjiang", "Huayuan", "Gongye", "Renmin", "Jianshe", "Zhongshan", "Hongqi",
            "Xinhua", "Jiefang", "Yingbin", "Chaoyang", "Dongfeng", "Binhai", "Qiaotou")),
    "BD": (("Bangladesh", "BD", "BANGLADESH"),
           (("Gazipur", "Dhaka"), ("Savar", "Dhaka"), ("Ashulia", "Dhaka"), ("Narayanganj", "Dhaka"),
            ("Chittagong", "Chittagong")),
           ("Tongi", "Konabari", "Baipail", "Kashimpur", "Zirabo", "Bhogra", "Chandra", "Kanchpur")),
    "VN": (("Vietnam", "VN", "Viet Nam"),
           (("Binh Duong", "Binh Duong"), ("Bien Hoa", "Dong Nai"), ("Tan An", "Long An"), ("Hai Duong", "Hai Duong"),
            ("Nam Dinh", "Nam Dinh")),
           ("Song Than", "My Phuoc", "Amata", "Tan Dong Hiep", "Nhon Trach", "Vinh Loc", "Hoa Xa")),
    "IN": (("India", "IN", "INDIA"),
           (("Tiruppur", "Tamil Nadu"), ("Bangalore", "Karnataka"), ("Noida", "Uttar Pradesh"),
            ("Ludhiana", "Punjab"), ("Gurgaon", "Haryana")),
           ("Avinashi", "Mysore", "Peenya", "Udyog Vihar", "Focal Point", "Kangeyam", "Palladam")),
    "PK": (("Pakistan", "PK"), (("Karachi", "Sindh"), ("Faisalabad", "Punjab"), ("Lahore", "Punjab"),
                                 ("Sialkot", "Punjab")),
           ("Korangi", "SITE", "Sargodha", "Ferozepur", "Jaranwala", "Sundar")),
    "KH": (("Cambodia", "KH"), (("Phnom Penh", "Phnom Penh"), ("Kandal", "Kandal"), ("Kampong Speu", "Kampong Speu")),
           ("Veng Sreng", "Chom Chao", "Trapeang Kong", "Dangkor", "Por Sen Chey")),
    "ID": (("Indonesia", "ID"), (("Bandung", "West Java"), ("Semarang", "Central Java"), ("Tangerang", "Banten"),
                                  ("Bogor", "West Java")),
           ("Raya Cimareme", "Soekarno Hatta", "Industri", "Gatot Subroto", "Siliwangi")),
    "TR": (("Turkey", "TR", "Turkiye"), (("Istanbul", "Istanbul"), ("Bursa", "Bursa"), ("Izmir", "Izmir"),
                                          ("Denizli", "Denizli")),
           ("Organize Sanayi", "Ataturk", "Cumhuriyet", "Inonu", "Fatih")),
    "LK": (("Sri Lanka", "LK"), (("Katunayake", "Western"), ("Biyagama", "Western"), ("Koggala", "Southern")),
           ("Export Processing Zone", "Spur Road", "Walgama", "Malwana")),
}
COUNTRY_SHARE = {"CN": 0.40, "BD": 0.12, "VN": 0.12, "IN": 0.10, "PK": 0.06, "KH": 0.05, "ID": 0.06, "TR": 0.05,
                 "LK": 0.04}
SYLLABLES = ("xin", "he", "hua", "mei", "feng", "yuan", "tian", "yi", "jin", "fa", "long", "sheng", "da", "tong",
             "rui", "hong", "tai", "kang", "ming", "yang", "bao", "run", "chen", "guang", "ding", "fu", "jia",
             "kai", "yue", "li", "qiao", "shun", "wei", "xiang", "yu", "zhong", "zhen", "lian", "bo", "heng",
             "wan", "rong", "sen", "hao", "an", "de", "lu", "xing")
OTHER_WORDS = ("Meghna", "Padma", "Jamuna", "Rupsha", "Shanta", "Phu Thinh", "Tan Thanh", "Hoang Long", "Minh Phat",
               "An Phuoc", "Thai Binh", "Sri Sai", "Ganesh", "Lakshmi", "Kovai", "Nishat", "Crescent", "Indus",
               "Sapphire", "Angkor", "Mekong", "Golden", "Royal", "Star", "Sun", "Pacific", "Pan", "Asia", "Global",
               "Eastern", "Delta", "Unity", "Prime", "Evergreen", "Sunrise", "Orient", "Crystal", "Lotus", "Ocean",
               "Harvest", "Pearl", "Silver", "Diamond", "Emerald", "Atlas", "Nova", "Apex", "Vista")
TRADES = ("Garment", "Garments", "Apparel", "Knitwear", "Fashion", "Textile", "Clothing", "Sportswear", "Shoes",
          "Footwear", "Hosiery", "Socks", "Knitting", "Headwear", "Bags", "Home Textiles")
LEGAL = {"CN": ("Co., Ltd.", "Co. Ltd", "Company Limited", "CO.,LTD"), "BD": ("Ltd.", "Limited", "(Pvt.) Ltd."),
         "VN": ("Co., Ltd", "Company Limited", "JSC"), "IN": ("Pvt. Ltd.", "Private Limited", "Exports"),
         "PK": ("(Pvt.) Ltd.", "Limited"), "KH": ("Co., Ltd.", "(Cambodia) Co., Ltd."), "ID": ("PT", "Tbk"),
         "TR": ("San. ve Tic. A.S.", "Tekstil Ltd. Sti."), "LK": ("(Pvt) Ltd", "Limited")}
PRODUCT_TYPES = ("T-shirts", "T-shirts; Hoodies", "Dresses", "Hoodies; Sweatshirts", "Socks", "Leggings", "Footwear",
                 "Caps", "Knitwear", "Woven tops", "Jeans", "Blankets; Cushion covers", "Tote bags", "Scarves",
                 "Tights", "Apparel", "")
FACILITY_TYPES = ("Final Product Assembly", "Final Product Assembly", "Final Product Assembly", "Cut and sew",
                  "Printing, Product Dyeing and Laundering", "Textile or Material Production", "Fabric mill",
                  "Trims and components", "")


def _name(rng: np.random.Generator, country: str, city: str) -> str:
    if country == "CN":
        brand = "".join(str(rng.choice(SYLLABLES)) for _ in range(2)).title()
        head = f"{city} {brand}"
    else:
        a, b = rng.choice(len(OTHER_WORDS), 2, replace=False)
        head = f"{OTHER_WORDS[a]} {OTHER_WORDS[b]}"
    return f"{head} {rng.choice(TRADES)} {rng.choice(LEGAL[country])}"


def _address(rng: np.random.Generator, country: str, city: str, province: str) -> str:
    streets = PLACES[country][2]
    street, n = str(rng.choice(streets)), int(rng.integers(1, 5000))
    if country == "CN":  # Chinese road and district names are as many as the syllable pairs
        street = street if rng.random() < 0.3 else "".join(str(rng.choice(SYLLABLES)) for _ in range(2)).title()
        district = "".join(str(rng.choice(SYLLABLES)) for _ in range(2)).title()
        return f"No. {n} {street} Road, {district} District, {city}, {province}"
    if country in ("BD", "PK", "IN"):
        return f"Plot {n}, {street} Industrial Area, {city}, {province}"
    return f"Lot {n}, {street} Industrial Zone, {city}, {province}"


def _typo(rng: np.random.Generator, text: str) -> str:
    words = [i for i, w in enumerate(text.split()) if len(w) >= 6 and w.isalpha()]
    if not words:
        return text
    parts = text.split()
    i = int(rng.choice(words))
    w = parts[i]
    j = int(rng.integers(1, len(w) - 1))
    parts[i] = w[:j] + w[j + 1:] if rng.random() < 0.5 else w[:j] + w[j] + w[j:]
    return " ".join(parts)


def _vary_name(rng: np.random.Generator, name: str) -> str:
    how = int(rng.integers(0, 6))
    if how == 0:
        return name.upper()
    if how == 1:
        return re.sub(r"[.,()]", "", name)
    if how == 2:
        return re.sub(r"Co\.,? Ltd\.?|Company Limited|CO\.,LTD|Limited|Ltd\.?", "Co Ltd", name, count=1)
    if how == 3:  # a space inside the brand: "Xinhe" -> "Xin He"
        parts = name.split()
        k = next((i for i, p in enumerate(parts[1:], 1) if len(p) >= 5 and p.isalpha()), None)
        if k is not None:
            parts[k] = parts[k][:2] + " " + parts[k][2:].title()
        return " ".join(parts)
    if how == 4:
        return _typo(rng, name)
    return name.lower().title()


def _vary_address(rng: np.random.Generator, address: str, country_name: str) -> str:
    how = int(rng.integers(0, 5))
    if how == 0:
        return address.upper()
    if how == 1:
        return address.replace("No. ", "No.").replace(", ", ",")
    if how == 2:
        return address.replace(" Road", " Rd.").replace(" District", " Dist.")
    if how == 3:
        return f"{address}, {country_name}"
    return address.replace(",", " ,")


def synthetic_registry(n: int, *, seed: int = 0, dup_share: float = 0.10,
                       sibling_share: float = 0.02) -> tuple[str, list[int], list[str]]:
    """CSV text of `n` rows, each row's true facility (cluster) and kind (base, duplicate, sibling)."""
    rng = np.random.default_rng(seed)
    countries = list(COUNTRY_SHARE)
    p = np.array([COUNTRY_SHARE[c] for c in countries])
    rows: list[tuple[str, ...]] = []
    truth: list[int] = []
    kind: list[str] = []
    base: list[tuple[str, str, str, str, str]] = []  # name, address, city, country code, province
    base_rows: list[int] = []  # the row of each base facility
    for i in range(n):
        r = rng.random()
        if base and r < dup_share:
            k = int(rng.integers(len(base)))
            name, address, city, cc, province = base[k]
            spellings = PLACES[cc][0]
            cname = str(rng.choice(spellings))
            name2 = _vary_name(rng, name)
            address2 = _vary_address(rng, address, spellings[0]) if rng.random() < 0.7 else address
            rows.append(_cells(rng, name2, address2, city, cname))
            truth.append(truth[base_rows[k]])
            kind.append("duplicate")
            continue
        if base and r < dup_share + sibling_share:
            k = int(rng.integers(len(base)))
            name, _, city, cc, province = base[k]
            address = _address(rng, cc, city, province)
            rows.append(_cells(rng, name, address, city, str(rng.choice(PLACES[cc][0]))))
            truth.append(i)
            kind.append("sibling")
            continue
        cc = str(rng.choice(countries, p=p))
        city, province = PLACES[cc][1][int(rng.integers(len(PLACES[cc][1])))]
        name, address = _name(rng, cc, city), _address(rng, cc, city, province)
        base.append((name, address, city, cc, province))
        base_rows.append(i)
        rows.append(_cells(rng, name, address, city, str(rng.choice(PLACES[cc][0]))))
        truth.append(i)
        kind.append("base")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    w.writerows(rows)
    return out.getvalue(), truth, kind


def _cells(rng: np.random.Generator, name: str, address: str, city: str, country: str) -> tuple[str, ...]:
    workers = int(rng.lognormal(5.5, 1.0))
    shown = (str(workers) if rng.random() < 0.6 else
             ("1001-5000" if workers > 1000 else "Less than 1000") if rng.random() < 0.5 else "")
    return (name, address, city, country, "Apparel", str(rng.choice(PRODUCT_TYPES)), str(rng.choice(FACILITY_TYPES)),
            shown, "")


def score_merges(report: object, truth: list[int], kind: list[str]) -> dict[str, object]:
    """Merges of the synthetic import against the planted truth (lines are data row + 1)."""
    merges = report.merged  # type: ignore[attr-defined]
    line_of = {o.factory_id: o.line for o in report.outcomes if o.outcome == "imported"}  # type: ignore[attr-defined]
    correct = wrong = sibling_merged = 0
    merged_rows = set()
    for m in merges:
        row = m.line - 2
        kept_row = line_of[m.into] - 2
        merged_rows.add(row)
        if truth[row] == truth[kept_row]:
            correct += 1
        else:
            wrong += 1
            sibling_merged += kind[row] == "sibling" or kind[kept_row] == "sibling"
    planted = sum(k == "duplicate" for k in kind)
    found = sum(1 for r in merged_rows if kind[r] == "duplicate")
    return {"planted_duplicates": planted, "merges": len(merges), "correct": correct, "wrong": wrong,
            "siblings_merged": sibling_merged, "precision": round(correct / max(len(merges), 1), 4),
            "recall": round(found / max(planted, 1), 4)}


def oar_pairs(path: Path, thresholds: Thresholds) -> dict[str, object]:
    """Precision and recall of `match_pair` on the OAR hand-labelled pairs."""
    data = json.loads(path.read_text(encoding="utf-8"))
    tp = fp = fn = tn = 0
    missed: Counter[str] = Counter()
    for label in ("match", "distinct"):
        for item in data[label]:
            a, b = item["__value__"]
            same, *_, why = match_pair(*(Site(r["name"], r["address"], country_code(r["country"])) for r in (a, b)),
                                       thresholds)
            if label == "match":
                tp += same
                fn += not same
                if not same:
                    missed[re.sub(r"[\d.]+%?", "N", why.split(" (")[0])] += 1
            else:
                fp += same
                tn += not same
    return {"match_pairs": tp + fn, "distinct_pairs": fp + tn, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": round(tp / max(tp + fp, 1), 4), "recall": round(tp / max(tp + fn, 1), 4),
            "missed_because": dict(missed.most_common())}


def _workspace(home: Path):
    from app.settings import Settings
    from app.workspace import Workspace

    return Workspace.open(Settings(home=home))


def import_synthetic(n: int, seed: int) -> dict[str, object]:
    from app.db import transaction
    from app.services import factory_registry

    t0 = time.perf_counter()
    text, truth, kind = synthetic_registry(n, seed=seed)
    gen_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as home:
        ws = _workspace(Path(home))
        _ = ws.language  # loads jieba: part of opening a workspace, not of the import
        t0 = time.perf_counter()
        with transaction(ws.sessions) as s:
            report = factory_registry.import_registry(s, text=text, file="synthetic.csv", taxonomy=ws.taxonomy,
                                                      language=ws.language)
        import_s = time.perf_counter() - t0
        ws.close()
    return {"rows": n, "generate_s": round(gen_s, 2), "import_s": round(import_s, 2), "imported": report.imported,
            "merged": len(report.merged), "skipped": len(report.skipped),
            "material_suppliers": report.material_suppliers, "categories_from": report.categories_from,
            "unmapped_terms": report.unmapped_terms, **score_merges(report, truth, kind)}


def real_list(path: Path, n_orders: int, seed: int) -> dict[str, object]:
    from app.db import transaction
    from app.services import factory_registry, production
    from generation.taxonomy import load_taxonomy
    from matching.factories.orders import Order

    text = path.read_text(encoding="utf-8-sig")
    with tempfile.TemporaryDirectory() as home:
        ws = _workspace(Path(home))
        t0 = time.perf_counter()
        with transaction(ws.sessions) as s:
            report = factory_registry.import_registry(s, text=text, file=path.name, taxonomy=ws.taxonomy,
                                                      language=ws.language)
        import_s = time.perf_counter() - t0
        outcomes = Counter(o.outcome for o in report.outcomes)
        without_reason = [o.line for o in report.outcomes if not o.reason]
        with ws.sessions() as s:
            views = factory_registry.list_factories(s, production.estimate_rules(ws.settings))
        cats = Counter(c for v in views if not v.supplies_materials for c in v.categories)
        suppliers = {v.id for v in views if v.supplies_materials}
        taxonomy = load_taxonomy()
        rng = np.random.default_rng(seed)
        orders = []
        for i in range(n_orders):
            c = sorted(cats)[int(rng.integers(len(cats)))]
            material = str(rng.choice(taxonomy.allowed("material", c)))
            qty = int(np.clip(round(1500 * rng.lognormal(0.0, 0.9), -1), 100, 20_000))
            orders.append(Order(f"R{i}", c, (material,), (), qty, taxonomy.category(c).due_days, f"{material} {c}"))
        t0 = time.perf_counter()
        with ws.sessions() as s:
            plan = production.plan_orders(s, ws, orders, exact=False)
        plan_s = time.perf_counter() - t0
        ws.close()
    demand = sum(o.quantity for o in orders)
    capacity = sum(v.capacity.value or 0 for v in views if not v.supplies_materials)
    placed = sum(r.quantity for r in plan.rows())
    at_suppliers = sum(r.quantity for r in plan.rows() if r.factory_id in suppliers)
    unplaced = sum(u.quantity for u in plan.unplaced)
    reasons = Counter(re.sub(r"\d[\d,]*", "N", u.reason.split(":")[0]) for u in plan.unplaced)
    kept = [c for rows in plan.candidates.values() for c in rows if c.kept]
    return {"file": path.name, "rows": report.rows, "outcomes": dict(outcomes), "without_reason": len(without_reason),
            "import_s": round(import_s, 2), "factories": len(views), "material_suppliers": len(suppliers),
            "categories": dict(cats), "categories_from": report.categories_from, "unmapped_terms": report.unmapped_terms,
            "merges": [{"kept": m.kept, "merged": m.merged, "reason": m.reason} for m in report.merged],
            "orders": n_orders, "demand_pcs": demand, "estimated_capacity_pcs": capacity, "placed_pcs": placed,
            "placed_share": round(placed / demand, 4), "at_material_suppliers_pcs": at_suppliers,
            "unplaced_pcs": unplaced, "unplaced_with_reason": sum(bool(u.reason) for u in plan.unplaced),
            "unplaced_designs": len(plan.unplaced), "unplaced_reasons": dict(reasons),
            "unplaced_below_min_moq_pcs": sum(o.quantity for o in orders
                                             if o.quantity < min(v.moq.value or 0 for v in views)),
            "kept_candidates_with_assumptions": sum(bool(c.assumptions) for c in kept), "kept_candidates": len(kept),
            "plan_s": round(plan_s, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--oar", type=Path, default=Path("/work/data/oar/training.json"))
    ap.add_argument("--real", type=Path, default=Path("/work/data/suppliers/osh_sample_facility_lists_combined.csv"))
    ap.add_argument("--orders", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: synthetic, oar, real")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    out: dict[str, object] = {"date": datetime.date.today().isoformat(), "machine": platform.platform(),
                              "cpus": os.cpu_count(), "python": sys.version.split()[0], "thresholds": vars(Thresholds())}
    if "oar" not in skip and args.oar.exists():
        out["oar"] = oar_pairs(args.oar, Thresholds())
        print(json.dumps({"oar": out["oar"]}), flush=True)
    if "synthetic" not in skip:
        out["synthetic"] = import_synthetic(args.rows, args.seed)
        print(json.dumps({"synthetic": out["synthetic"]}), flush=True)
    if "real" not in skip and args.real.exists():
        out["real"] = real_list(args.real, args.orders, args.seed)
        print(json.dumps({"real": out["real"]}, ensure_ascii=False), flush=True)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
