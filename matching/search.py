"""Hybrid search over open designs: what the query names (category, attributes), its words (BM25), and
its meaning (MiniLM), in that order of trust.

`matching` does not read product text: the caller (app) passes each design's words and attributes
(`SearchDoc`) and what the query names (`SearchQuery`, from the product-language module). Scoring:

    score = 4 · [category named and equal]                     a query that names a category gets it first
          + Σ over named attributes: 1 if equal, 0.5 if the same colour family ("navy" for "blue")
          + 1 · bm25 / max bm25 over the candidates             its words in names and descriptions (EN+ZH)
          + 0.5 · cosine(query, design)                          meaning, only to order the candidates

A design is a candidate when it matches something the query names or shares a word with it (BM25 > 0).
A query whose product is one nobody here makes ("jeans", 羽绒服) finds nothing. A query that names nothing we sell and shares no word with any design finds nothing, whatever MiniLM
says (an embedding always has a nearest neighbour, so "zzzqqq" would otherwise return every item),
unless its meaning is close to a design (cosine ≥ `semantic_floor`; the floor is set in
`scripts/bench_search.py` so that nonsense queries stay empty). The caller says why nothing was found
and offers suggestions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

CATEGORY_WEIGHT = 4.0
ATTRIBUTE_WEIGHT = 1.0
FAMILY_WEIGHT = 0.5
BM25_WEIGHT = 1.0
COSINE_WEIGHT = 0.5
SEMANTIC_FLOOR = 0.55


@dataclass(frozen=True)
class SearchDoc:
    """One open design as search sees it."""

    id: int
    category: str
    attributes: frozenset[tuple[str, str]]  # (kind, name)
    families: frozenset[str]  # colour families of its colour
    words: tuple[str, ...]  # canonical words of its names, descriptions and attribute names, both languages


@dataclass(frozen=True)
class SearchQuery:
    """What a query names (from the product-language module) and its words."""

    category: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    color_family: str | None = None  # family of the colour named, for partial credit
    words: tuple[str, ...] = ()
    unsold: str | None = None  # the product it asks for, when that is one nobody here makes ("jeans")

    @property
    def names_something(self) -> bool:
        return self.category is not None or bool(self.attributes)


@dataclass(frozen=True)
class Hit:
    id: int
    score: float
    matched: tuple[str, ...] = field(default=())  # what it matched: "category", "color", "words", "meaning"


class SearchIndex:
    """BM25 over the designs' words (`bm25s`) plus their categories and attributes as arrays.

    Built once per set of open designs (the feed cache rebuilds it when designs open or close)."""

    def __init__(self, docs: Sequence[SearchDoc]) -> None:
        import bm25s

        self.docs = list(docs)
        self.ids = np.array([d.id for d in self.docs], dtype=np.int64)
        self.position = {d.id: i for i, d in enumerate(self.docs)}
        self.category = np.array([d.category for d in self.docs], dtype=object)
        # (kind, name) -> which designs have it, and colour family -> which designs are of it
        self._has: dict[tuple[str, str], np.ndarray] = {}
        self._family: dict[str, np.ndarray] = {}
        for i, d in enumerate(self.docs):
            for pair in d.attributes:
                self._has.setdefault(pair, np.zeros(len(self.docs), dtype=bool))[i] = True
            for fam in d.families:
                self._family.setdefault(fam, np.zeros(len(self.docs), dtype=bool))[i] = True
        self.vocab: dict[str, int] = {}
        ids = [[self.vocab.setdefault(w, len(self.vocab)) for w in d.words] or [self._pad()] for d in self.docs]
        self._bm25 = bm25s.BM25()
        if self.docs:
            self._bm25.index(bm25s.tokenization.Tokenized(ids=ids, vocab=self.vocab), show_progress=False)

    def _pad(self) -> int:
        return self.vocab.setdefault("\x00", len(self.vocab))  # a design without words still has a row

    def __len__(self) -> int:
        return len(self.docs)

    def bm25(self, words: Sequence[str]) -> np.ndarray:
        """(n,) BM25 score of every design for the query's words (0 where it shares none)."""
        known = [w for w in dict.fromkeys(words) if w in self.vocab]
        if not known or not self.docs:
            return np.zeros(len(self.docs), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def search(self, query: SearchQuery, *, allowed: np.ndarray | None = None, k: int = 20,
               cosine: np.ndarray | None = None, semantic_floor: float = SEMANTIC_FLOOR) -> list[Hit]:
        """The best `k` designs for `query` among `allowed` (a boolean mask, None = all), best first.

        `cosine` is the (n,) similarity of the query's embedding to each design (same order as the
        docs), or None to rank without meaning."""
        n = len(self.docs)
        if n == 0 or query.unsold is not None:
            return []  # "denim jeans" is not a denim tote bag: the caller says we do not make jeans
        mask = np.ones(n, dtype=bool) if allowed is None else allowed.astype(bool)
        lexical = self.bm25(query.words)
        named = np.zeros(n, dtype=np.float32)
        cat = np.zeros(n, dtype=bool)
        if query.category is not None:
            cat = self.category == query.category
            named += CATEGORY_WEIGHT * cat
        attr_hits = np.zeros(n, dtype=np.float32)
        none = np.zeros(n, dtype=bool)
        for kind, name in query.attributes:
            exact = self._has.get((kind, name), none)
            attr_hits += ATTRIBUTE_WEIGHT * exact
            if kind == "color" and query.color_family is not None:
                attr_hits += FAMILY_WEIGHT * (self._family.get(query.color_family, none) & ~exact)
        named += attr_hits
        cos = cosine if cosine is not None else np.zeros(n, dtype=np.float32)
        candidate = (named > 0) | (lexical > 0)
        if not candidate[mask].any():
            # nothing named, no word shared: only a design very close in meaning is worth showing
            candidate = cos >= semantic_floor if cosine is not None else np.zeros(n, dtype=bool)
        candidate &= mask
        if not candidate.any():
            return []
        top = float(lexical[candidate].max()) or 1.0
        score = named + BM25_WEIGHT * lexical / top + COSINE_WEIGHT * cos
        idx = np.flatnonzero(candidate)
        order = idx[np.argsort(-score[idx], kind="stable")][:k]
        return [Hit(int(self.ids[i]), float(score[i]), _matched(bool(cat[i]), float(attr_hits[i]),
                                                               float(lexical[i]), float(cos[i]))) for i in order]


def _matched(category: bool, attributes: float, lexical: float, cosine: float) -> tuple[str, ...]:
    out = []
    if category:
        out.append("category")
    if attributes > 0:
        out.append("attributes")
    if lexical > 0:
        out.append("words")
    if cosine > 0:
        out.append("meaning")
    return tuple(out)
