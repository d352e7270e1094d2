"""Read product text: which category and attributes a title, post, query or series name names.

`ProductLanguage.extract(text)` finds every taxonomy term in the text (`lexicon.TermIndex`) and decides:

- **category**: product names are head-final in English and Chinese ("sneaker socks" are socks, "卫衣裙"
  is a dress), so it is the *last* product word, except that words after "for"/"with"/"and"/"配"/"送"
  (`BOUNDARIES`) or a sentence end describe something else ("socks for sneakers", "scarf and gloves",
  "卫衣送袜子") once a product has been named. When that last
  product word is one trendloom does not sell ("denim shirt", "牛仔裤"), the category is None: nothing
  is guessed where the text names no product of ours ("Men Black Watch" has none).
- **colour, material, pattern, silhouette**: the first mention of each kind that applies to the category
  (a "leather" mention on socks is not their material); with no category, the first mention.
- **details**: every detail mentioned that applies, in order.

Every decision keeps where it was read (`Mention`: offsets, the term's key, what it named), so a user
can see why. Embeddings are not used here: a caller may fill in what the lexicon left empty
(`generation.trends.mapping.EmbeddingMapper`), never override it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from generation.language.lexicon import OTHER, PHRASE, Token, TermIndex, is_cjk, singular
from generation.taxonomy import ATTRIBUTE_KINDS, Taxonomy

SINGLE_KINDS = ("color", "material", "pattern", "silhouette")
# after one of these, once a product is named, a later product word is what it goes with, not what it is
BOUNDARIES = frozenset({"for", "with", "w", "in", "and", "under", "over", "out", "vs", "versus", "as", "than",
                        "配", "搭配", "送", "赠", "赠送", "附", "适用", "适配", "和", "与"})
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_SENTENCE_END = re.compile(r"[.!?;](?=\s)|[。！？；+＋]")  # a product named in one sentence is not undone by the next


def _without_leading_name(mentions: list[Mention], tokens: list[Token]) -> list[Mention]:
    """Drop a colour that opens the text and is followed by other words before a later colour: titles
    open with the brand, and brands borrow colours ("Red Tape Men Black Sandals" is black)."""
    colours = [m for m in mentions if m.kind == "color"]
    if len(colours) < 2 or not tokens or colours[0].start != tokens[0].start or is_cjk(tokens[0].key):
        return mentions
    first, second = colours[0], colours[1]
    between = [t for t in tokens if first.end <= t.start < second.start]
    if not between:
        return mentions  # "Red & Blue": two colours, the first stands
    return [m for m in mentions if m is not first]


@dataclass(frozen=True)
class Mention:
    """One taxonomy term found in the text: `text[start:end]` named `kind` `name`."""

    start: int
    end: int
    term: str  # the canonical term that matched
    kind: str  # "category", an attribute kind, or "other" (a product trendloom does not sell)
    name: str


@dataclass(frozen=True)
class Extraction:
    """What one text names, each a taxonomy name or None (details: a list), and where it was read."""

    text: str
    category: str | None = None
    color: str | None = None
    material: str | None = None
    pattern: str | None = None
    silhouette: str | None = None
    details: tuple[str, ...] = ()
    other: str | None = None  # the product named, when it is one trendloom does not sell
    mentions: tuple[Mention, ...] = field(default=(), repr=False)

    def attributes(self) -> list[tuple[str, str]]:
        """(kind, name) of every attribute found, colour first."""
        out = [(k, v) for k in SINGLE_KINDS if (v := getattr(self, k)) is not None]
        return out + [("detail", d) for d in self.details]

    @property
    def empty(self) -> bool:
        return self.category is None and not self.attributes()

    def to_dict(self) -> dict[str, Any]:
        """The `trendloom text extract` line: names or null/[] per field."""
        return {"text": self.text, "category": self.category, "color": self.color, "material": self.material,
                "pattern": self.pattern, "silhouette": self.silhouette, "details": list(self.details)}


class ProductLanguage:
    """The bilingual (EN/ZH) reader of product text, on one taxonomy. Build once: it loads jieba's
    dictionary and the taxonomy's terms (about a second); `extract` is then pure lookups."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.index = TermIndex(taxonomy)
        self._vocab: frozenset[str] | None = None

    def mentions(self, text: str) -> list[Mention]:
        """Every term in `text`, in order (one mention per target of a term naming several things)."""
        tokens = self.index.tokens(text)
        out = []
        for i, j, key, targets in self.index.lookup(tokens):
            for kind, name in targets:
                out.append(Mention(tokens[i].start, tokens[j - 1].end, key, kind, name))
        return out

    def extract(self, text: str) -> Extraction:
        """The category and attributes `text` names (module docstring: how each is decided)."""
        tokens = self.index.tokens(text)
        breaks = [t.start for t in tokens if t.key in BOUNDARIES] + [m.end() for m in _SENTENCE_END.finditer(text)]
        mentions: list[Mention] = []
        head: Mention | None = None
        for i, j, key, targets in self.index.lookup(tokens):
            start = tokens[i].start
            closed = head is not None and any(head.start < b <= start for b in breaks)
            for kind, name in targets:
                if kind == PHRASE:
                    continue
                m = Mention(start, tokens[j - 1].end, key, kind, name)
                mentions.append(m)
                if kind in ("category", OTHER) and not closed:
                    head = m  # "jeans" (denim and a product we do not sell) heads as the product
        category = head.name if head is not None and head.kind == "category" else None
        found: dict[str, Any] = {"details": []}
        fallback: dict[str, str] = {}
        for m in _without_leading_name(mentions, tokens):
            if m.kind not in ATTRIBUTE_KINDS:
                continue
            if category is not None and not self.taxonomy.attributes[m.kind][m.name].applies_to(category):
                fallback.setdefault(m.kind, m.name)  # the text says so, though we would not make it
                continue
            if m.kind == "detail":
                if m.name not in found["details"]:
                    found["details"].append(m.name)
            else:
                found.setdefault(m.kind, m.name)
        for kind, name in fallback.items():
            if kind != "detail":
                found.setdefault(kind, name)
        return Extraction(
            text=text, category=category, color=found.get("color"), material=found.get("material"),
            pattern=found.get("pattern"), silhouette=found.get("silhouette"), details=tuple(found["details"]),
            other=head.name if head is not None and head.kind == OTHER else None, mentions=tuple(mentions),
        )

    def correct_spelling(self, text: str) -> str:
        """`text` with each English word that is not in the lexicon, but one or two typing slips away from
        a word that is (a swap of two letters is one slip), replaced by it ("hoddie" -> "hoodie",
        "sneakres" -> "sneaker"): for search
        queries, where a slip should not find nothing. Words of 4 letters or fewer, and words that are
        in the lexicon, are left alone; one slip is allowed up to 6 letters, two from 7."""
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        vocab = self._vocabulary()

        def fix(m: re.Match[str]) -> str:
            word = m.group()
            low = word.lower()
            if len(low) <= 4 or low in vocab or singular(low) in vocab:
                return word
            best = process.extractOne(low, vocab, scorer=DamerauLevenshtein.distance,
                                      score_cutoff=1 if len(low) <= 6 else 2)
            return best[0] if best is not None else word

        return _LATIN_WORD.sub(fix, text)

    def _vocabulary(self) -> frozenset[str]:
        if self._vocab is None:
            self._vocab = frozenset(w for key in self.index.terms for w in key.split(" ") if w.isascii() and w.isalpha())
        return self._vocab

    def words(self, text: str) -> list[str]:
        """The canonical words of `text` (English singulars, Chinese jieba words), e.g. for lexical search:
        "Navy HOODIES" and "navy hoodie" give the same words."""
        return [t.key for t in self.index.tokens(text)]

    def extract_many(self, texts: Iterable[str]) -> list[Extraction]:
        return [self.extract(t) for t in texts]

    def color_family(self, color: str | None) -> str | None:
        """The plain colour a shade belongs to ("navy" -> "blue"), for comparing at family level."""
        return None if color is None else self.taxonomy.attributes["color"][color].family
