"""Search as buyers use it: the query read by the product-language module, matched against the open
designs' categories, attributes and words in both languages (`matching.search`), ordered by meaning.

The index is rebuilt when the set of open designs changes (a design published, decided or edited);
between changes every search reuses it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from generation.language.extract import ProductLanguage
from generation.taxonomy import Taxonomy
from matching.search import SearchDoc, SearchIndex, SearchQuery


def doc_of(design_id: int, spec: dict[str, Any], language: ProductLanguage) -> SearchDoc:
    """A design as search sees it: its category and attributes from the spec, and the words of its names,
    descriptions and attribute names in English and Chinese."""
    tx = language.taxonomy
    attrs = [(k, spec[k]) for k in ("color", "material", "pattern", "silhouette") if spec.get(k)]
    attrs += [("detail", d) for d in spec.get("details", ())]
    texts = [spec.get("name", ""), spec.get("name_zh", ""), spec.get("description_zh", ""),
             spec["category"].replace("-", " "), tx.categories[spec["category"]].zh if spec["category"] in tx.categories else ""]
    for kind, name in attrs:
        a = tx.attributes.get(kind, {}).get(name)
        texts += [name.replace("-", " "), a.zh if a is not None else ""]
    words = tuple(w for t in texts if t for w in language.words(t))
    color = tx.attributes["color"].get(spec.get("color", ""))
    families = frozenset({color.family} if color is not None and color.family else ())
    return SearchDoc(design_id, spec["category"], frozenset(attrs), families, words)


def query_of(text: str, language: ProductLanguage) -> SearchQuery:
    """What a buyer's query names (typing slips forgiven), and its words; `unsold` when the product it
    asks for is one nobody here makes."""
    text = language.correct_spelling(text)
    found = language.extract(text)
    family = language.color_family(found.color) if found.color is not None else None
    unsold = found.other if found.category is None else None
    return SearchQuery(found.category, tuple(found.attributes()), family, tuple(language.words(text)), unsold)


class SearchCache:
    """One `SearchIndex` over the open designs, in the order of the feed cache's arrays, rebuilt when that
    set changes. A published design's spec does not change, so each design is read into a `SearchDoc`
    once; only the BM25 index is rebuilt."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: np.ndarray | None = None
        self._index: SearchIndex | None = None
        self._docs: dict[int, SearchDoc] = {}
        self._language: ProductLanguage | None = None

    def index(self, ids: np.ndarray, specs: Callable[[list[int]], dict[int, dict[str, Any]]],
              language: ProductLanguage) -> SearchIndex:
        """The index of designs `ids` (in that order); `specs(new_ids)` reads the specs of designs it has
        not seen. A new taxonomy (an attribute added) reads every design again."""
        with self._lock:
            if language is not self._language:
                self._docs, self._language, self._index = {}, language, None
            if self._index is None or self._ids is None or not np.array_equal(self._ids, ids):
                new = [int(i) for i in ids if int(i) not in self._docs]
                for i, spec in specs(new).items():
                    self._docs[i] = doc_of(i, spec, language)
                live = {int(i) for i in ids}
                self._docs = {i: d for i, d in self._docs.items() if i in live}
                self._index = SearchIndex([self._docs[int(i)] for i in ids])
                self._ids = ids.copy()
            return self._index


def suggestions(taxonomy: Taxonomy, open_categories: Sequence[str], n: int = 5) -> list[str]:
    """Categories a buyer can search for instead: those with designs open now, most stocked first."""
    counts: dict[str, int] = {}
    for c in open_categories:
        counts[c] = counts.get(c, 0) + 1
    return [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n] if c in taxonomy.categories]


def cosine(query_vec: np.ndarray, design_vecs: np.ndarray) -> np.ndarray:
    """(n,) cosine of one unit query vector to unit design rows."""
    return (design_vecs @ query_vec.reshape(-1)).astype(np.float32)
