"""De-duplicate facilities: the same factory listed twice (by two brands, in two downloads) is one.

Two facilities are the same when they are in the same country, their names agree once case,
punctuation, spacing and legal suffixes are set aside ("Quanzhou Xinxing Footwear Co., Ltd." and
"QUANZHOU XINXING FOOTWEAR CO LTD"), and so do their addresses. Distinct factories at different
addresses are never merged: besides the address similarity, every number of the shorter address
(house number, lot, postcode) must appear in the other, so "Lot 10, Utique" and "Lot 12, Utique" stay
two factories, and a facility without an address merges only with one of exactly the same name that
has none either.

Scoring uses rapidfuzz: names by the better of `ratio` on the compact name (no spaces: "hom
etextiles" = "home textiles") and `token_sort_ratio` on its words (word order), addresses by
`token_set_ratio` (one address may add the district or the country). Thresholds (`Thresholds`)
were set by judgement and checked on the Open Apparel Registry's hand-labelled pairs
(`scripts/bench_registry.py`, BENCHMARKS.md).

Scale: pairs are only scored inside a country, and inside a country only within blocks that share a
key: the first `PREFIX` letters of the compact name, or the name's rarest word in that country. A
duplicate whose name differs both in its first letters and in every rare word is missed (recall, not
precision, pays for speed). Each block is scored with `rapidfuzz.process.cdist` (C++, all cores).

Clusters grow greedily from the best-scoring pair down, and a record joins a cluster only if it matches
the cluster's first record (the one kept), so a chain of near-matches cannot merge two different places.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from matching.factories.countries import country_names

LEGAL_WORDS = frozenset({
    "co", "company", "companies", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "llc", "llp", "plc",
    "pvt", "private", "pte", "pty", "sdn", "bhd", "gmbh", "mbh", "sa", "sas", "sarl", "srl", "spa", "s", "a", "de",
    "cv", "sac", "jsc", "joint", "stock", "pt", "tbk", "bv", "nv", "ag", "kg", "oy", "ab", "kft", "doo", "ooo",
    "ltda", "lda", "sl", "the", "and", "of", "c", "v", "l", "p", "r", "tic", "san", "sti", "as",
})
ADDRESS_WORDS = {"road": "rd", "street": "st", "avenue": "ave", "district": "dist", "industrial": "ind",
                 "building": "bldg", "floor": "fl", "number": "no", "village": "vil", "province": "prov",
                 "highway": "hwy", "zone": "zn", "park": "pk", "estate": "est", "lane": "ln"}
WINDOW = 8  # records after each one, in each sort order, that it is compared with


@dataclass(frozen=True)
class Thresholds:
    """Scores (0..100) two records must reach to be one facility."""

    name: float = 88.0  # name similarity
    address: float = 80.0  # address similarity
    within: float = 95.0  # how wholly one name must appear in the other where the addresses are the same
    same_address: float = 95.0  # address similarity at which one name may be part of the other


@dataclass(frozen=True)
class Site:
    """What de-duplication compares: a facility's name, address and country."""

    name: str
    address: str
    country: str


@dataclass(frozen=True)
class Merge:
    """Record `merged` is the same facility as record `kept` (indexes into the sites given)."""

    kept: int
    merged: int
    name_score: float
    address_score: float
    reason: str


_NON_WORD = re.compile(r"[\W_]+")
_ASCII_PUNCT = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()} | {"&": " and "})


def _plain(text: str) -> str:
    """Lower-case words without punctuation; runs of single letters joined ("m e r c u r y" -> "mercury",
    "S.A. de C.V." -> "sa de cv"), as registries spell them."""
    if text.isascii():
        words = text.lower().translate(_ASCII_PUNCT).split()
    else:
        words = _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).lower().replace("&", " and ")).split()
    out: list[str] = []
    run = False  # the last word out is a run of single letters still growing
    for w in words:
        if len(w) == 1 and run:
            out[-1] += w
        else:
            out.append(w)
        run = len(w) == 1
    return " ".join(out)


@functools.lru_cache(maxsize=262_144)
def name_key(name: str) -> str:
    """A name's words without case, punctuation and legal suffixes: 'Xinxing Footwear Co., Ltd.' ->
    'xinxing footwear'."""
    words = [w for w in _plain(name).split() if w not in LEGAL_WORDS]
    return " ".join(words) or _plain(name)


@functools.lru_cache(maxsize=262_144)
def address_key(address: str, country: str = "") -> str:
    """An address's words without case and punctuation, common words abbreviated ('Road' = 'Rd.'), and
    without the name of `country` (an ISO code) where it ends the address."""
    words = [ADDRESS_WORDS.get(w, w) for w in _plain(address).split()]
    for tail in _country_tails(country):
        if len(words) > len(tail) and words[-len(tail):] == tail:
            words = words[:-len(tail)]
            break
    return " ".join(words)


@functools.lru_cache(maxsize=512)
def _country_tails(country: str) -> tuple[list[str], ...]:
    return tuple(n.split() for n in sorted(country_names(country), key=len, reverse=True))


def numbers(address: str) -> frozenset[str]:
    """The numbers in an address (leading zeros dropped): house numbers, lots, floors, postcodes."""
    return frozenset(n.lstrip("0") or "0" for n in re.findall(r"\d+", address))


@dataclass(frozen=True)
class _Keyed:
    name: str  # name_key
    compact: str  # name_key without spaces
    address: str  # address_key
    compact_address: str
    numbers: frozenset[str]


def _keyed(site: Site) -> _Keyed:
    n, a = name_key(site.name), address_key(site.address, site.country)
    return _Keyed(n, n.replace(" ", ""), a, a.replace(" ", ""), numbers(site.address))


def name_score(a: _Keyed, b: _Keyed) -> float:
    return max(fuzz.ratio(a.compact, b.compact), fuzz.token_sort_ratio(a.name, b.name))


def _name_within(a: _Keyed, b: _Keyed) -> float:
    """How well the shorter compact name appears inside the longer (partial ratio; 0 below 6 letters)."""
    if min(len(a.compact), len(b.compact)) < 6:
        return 0.0
    return float(fuzz.partial_ratio(a.compact, b.compact))


def address_score(a: _Keyed, b: _Keyed) -> float:
    """Address similarity: words in any order, one address may add words (the district, the province),
    and words run together ("pallerotamamadala") compare equal to the same words apart."""
    if not a.address and not b.address:
        return 100.0
    if not a.address or not b.address:
        return 0.0
    score = max(fuzz.token_set_ratio(a.address, b.address), fuzz.ratio(a.compact_address, b.compact_address))
    if min(len(a.compact_address), len(b.compact_address)) >= 15:
        score = max(score, fuzz.partial_ratio(a.compact_address, b.compact_address))
    return score


GENERIC_WORDS = frozenset({
    "rd", "st", "ave", "dist", "ind", "bldg", "fl", "no", "vil", "prov", "hwy", "zn", "pk", "est", "ln", "area", "city",
    "town", "county", "lot", "plot", "block", "room", "unit", "commune", "sangkat", "khan", "phum", "srok", "khum",
    "mah", "mahallesi", "sok", "sokak", "cad", "cadde", "caddesi", "calle", "via", "rua", "jalan", "jl", "kel", "kec",
    "moo", "tambon", "amphur", "sector", "phase", "near", "opp", "post", "office",
    "box", "po", "and", "the", "of", "de", "la", "del", "da", "do", "di", "sanayi", "bolgesi", "organize", "osb",
    "economic", "development", "tech", "hi", "new", "old", "north", "south", "east", "west", "upper", "lower",
})


def words_differ(a: _Keyed, b: _Keyed) -> list[str]:
    """Place words (4+ letters, not `GENERIC_WORDS`) that each address has and the other lacks in any
    spelling ("Yingbin Road" / "Binhai Road"): two different places, [] when there are none. A word
    only one side has (a district, a province added) is no conflict, nor is a variant spelling (a word
    75% alike, or one written inside a longer run-together word)."""
    wa, wb = a.address.split(), b.address.split()
    only_a = [w for w in set(wa) - set(wb) if len(w) >= 4 and w.isalpha() and w not in GENERIC_WORDS]
    only_b = [w for w in set(wb) - set(wa) if len(w) >= 4 and w.isalpha() and w not in GENERIC_WORDS]
    if not only_a or not only_b:
        return []

    def variant(w: str, others: list[str], compact: str) -> bool:
        return w in compact or any(fuzz.ratio(w, o) >= 75 or (len(o) >= 4 and o in w) for o in others)

    all_a, all_b = [w for w in set(wa) if len(w) >= 4], [w for w in set(wb) if len(w) >= 4]
    left_a = sorted(w for w in only_a if not variant(w, all_b, b.compact_address))
    left_b = sorted(w for w in only_b if not variant(w, all_a, a.compact_address))
    return [" ".join(left_a), " ".join(left_b)] if left_a and left_b else []


def numbers_differ(a: frozenset[str], b: frozenset[str]) -> list[str]:
    """The numbers of the address with fewer of them that the other address lacks, when that makes them
    different places ([] when not). A number is found in the other address as itself, or run together
    with another ("99101" = "99 101"). A postcode (5+ digits) alone may differ when some other number
    agrees: registries mistype postcodes, not lot numbers."""
    small, large = sorted((a, b), key=lambda s: (len(s), sorted(s)))
    if not small:
        return []

    def found(n: str, mine: frozenset[str], other: frozenset[str]) -> bool:
        # "99 101" in one address is "99101" in the other: numbers run together or split apart
        return (n in other or any(n + x in other or x + n in other for x in mine if x != n)
                or any(n == x + y for x in other for y in other if x != y))

    missing = sorted(n for n in small if not found(n, small, large))
    if missing and all(len(n) >= 5 for n in missing) and len(missing) < len(small):
        return []
    return missing


def same_site(a: _Keyed, b: _Keyed, t: Thresholds) -> tuple[bool, float, float, str]:
    """Whether two keyed records in one country are one facility: (same, name score, address score, why)."""
    ns = name_score(a, b)
    if ns < t.name:
        part = _name_within(a, b)
        if part < t.within:
            return False, ns, 0.0, f"names {ns:.0f}% alike"
        ads = address_score(a, b) if a.address and b.address else 0.0
        if ads < t.same_address or numbers_differ(a.numbers, b.numbers) or words_differ(a, b):
            return False, ns, ads, f"names {ns:.0f}% alike, one {part:.0f}% within the other, addresses {ads:.0f}% alike"
        return True, part, ads, (f"one name {part:.0f}% within the other (a branch or spacing), "
                                 f"addresses {ads:.0f}% alike")
    if not a.address or not b.address:
        same = not a.address and not b.address and a.compact == b.compact
        return same, ns, 100.0 if same else 0.0, ("same name, neither has an address" if same
                                                  else "one has no address: not merged")
    differ = numbers_differ(a.numbers, b.numbers)
    if differ:
        return False, ns, 0.0, f"different numbers in the addresses ({', '.join(differ)})"
    words = words_differ(a, b)
    if words:
        return False, ns, 0.0, f"different places in the addresses ({' / '.join(words)})"
    ads = address_score(a, b)
    if ads < t.address:
        return False, ns, ads, f"addresses {ads:.0f}% alike"
    what = "same name" if a.compact == b.compact else f"names {ns:.0f}% alike"
    where = "same address" if a.compact_address == b.compact_address else f"addresses {ads:.0f}% alike"
    return True, ns, ads, f"{what} (case, punctuation, spacing and legal suffixes set aside), {where}"


def match_pair(a: Site, b: Site, thresholds: Thresholds = Thresholds()) -> tuple[bool, float, float, str]:
    """`same_site` for two sites; never the same across countries."""
    if a.country != b.country:
        return False, 0.0, 0.0, "different countries"
    return same_site(_keyed(a), _keyed(b), thresholds)


def _neighbour_pairs(keyed: Sequence[_Keyed], members: Sequence[int], cutoff: float,
                    window: int) -> dict[tuple[int, int], float]:
    """Candidate pairs of one country by sorted neighbourhood: the records are sorted by five keys (the
    compact name, the compact name reversed, the name's words in alphabetical order, the name's rarest
    word then the compact name, the compact address), and each is scored against the `window` records
    after it in each order (`rapidfuzz.process.cpdist`, C++, all cores): names that differ late, early,
    in word order or around a rare word sort close together, and so do records at one address (where a
    name within the other counts too). Pairs whose name score reaches `cutoff` are returned."""
    df: Counter[str] = Counter()
    for i in members:
        df.update(set(keyed[i].name.split()))
    compact = [keyed[i].compact for i in members]
    words = [" ".join(sorted(keyed[i].name.split())) for i in members]
    rarest = [min(k.split(), key=lambda w: (df[w], -len(w), w)) if k else "" for k in (keyed[i].name for i in members)]

    def by(key: Callable[[int], Any]) -> np.ndarray:
        return np.asarray(sorted(range(len(members)), key=key), dtype=np.int64)

    address = [keyed[i].compact_address for i in members]
    orders = ((by(lambda x: compact[x]), False), (by(lambda x: compact[x][::-1]), False), (by(lambda x: words[x]), False),
              (by(lambda x: (rarest[x], compact[x])), False), (by(lambda x: (address[x], compact[x])), True))
    c_arr, w_arr, m_arr = np.array(compact, dtype=object), np.array(words, dtype=object), np.asarray(members)
    out: dict[tuple[int, int], float] = {}
    for o, same_place in orders:
        for off in range(1, min(window, len(o) - 1) + 1):
            a, b = o[:-off], o[off:]
            scores = [process.cpdist(c_arr[a], c_arr[b], scorer=fuzz.ratio, workers=-1),
                      process.cpdist(w_arr[a], w_arr[b], scorer=fuzz.ratio, workers=-1)]
            if same_place:  # records at one address: is one name within the other?
                scores.append(process.cpdist(c_arr[a], c_arr[b], scorer=fuzz.partial_ratio, workers=-1))
            score = np.maximum.reduce(scores)
            for x in np.flatnonzero(score >= cutoff):
                i, j = int(m_arr[a[x]]), int(m_arr[b[x]])
                key = (i, j) if i < j else (j, i)
                out[key] = max(out.get(key, 0.0), float(score[x]))
    return out


def find_duplicates(sites: Sequence[Site], thresholds: Thresholds = Thresholds(), *,
                    fixed: int = 0, window: int = WINDOW) -> list[Merge]:
    """Every site that is a duplicate of an earlier one, as a `Merge` into the cluster's first site.

    Earlier sites are kept: pass the stored registry first (`fixed` of them), which are never merged
    into one another (they were de-duplicated when imported), only new sites into them."""
    keyed = [_keyed(s) for s in sites]
    by_country: dict[str, list[int]] = defaultdict(list)
    for i, site in enumerate(sites):
        by_country[site.country].append(i)
    pairs: dict[tuple[int, int], float] = {}
    for members in by_country.values():
        if len(members) < 2:
            continue
        for (i, j), score in _neighbour_pairs(keyed, members, thresholds.name, window).items():
            if j >= fixed:  # two stored sites are not compared again
                pairs[i, j] = score
    root = list(range(len(sites)))
    keeping: set[int] = set()  # sites that already keep others
    merges: list[Merge] = []
    for _, i, j in sorted(((s, i, j) for (i, j), s in pairs.items()), key=lambda p: (-p[0], p[1], p[2])):
        ri, rj = root[i], root[j]
        if ri == rj:
            continue
        keep, other = (ri, rj) if ri < rj else (rj, ri)
        if other < fixed or other in keeping:
            continue  # a stored site is never merged away, nor are two clusters merged into one
        same, ns, ads, why = same_site(keyed[keep], keyed[other], thresholds)
        if same:
            root[other] = keep
            keeping.add(keep)
            merges.append(Merge(keep, other, ns, ads, why))
    return sorted(merges, key=lambda m: m.merged)
