"""The product lexicon: every word the taxonomy knows, in English and Chinese, and how text is cut
into the tokens those words are matched on.

A *term* is a category or attribute name (hyphens read as spaces), one of its synonyms, its Chinese
name, or a word for a product trendloom does not sell (`Taxonomy.other_products`). One term may name
several things at once ("长裙" is a dress and the maxi silhouette; "jeans" is denim and a product we do
not sell), so a term maps to a tuple of targets.

Tokens: English is split into letter/digit runs, each reduced to a singular by a few suffix rules
("dresses" -> "dress", "hoodies" -> "hoodie"); words that only exist in the plural ("shorts", "jeans",
"leggings") are left alone, so "short sleeve" never reads as shorts. Chinese has no spaces, so it is
segmented by jieba with every Chinese term loaded as a user word: a term then matches only on word
boundaries, and "白" is not found inside "白领" (white-collar) or "红" inside "网红" (influencer).
A token and its neighbours are looked up joined, longest first (`TermIndex.lookup`). Terms and text
go through the same normalisation (`canonical`), so how a term is written ("T-shirt", "t shirt",
"T恤") does not matter.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from generation.taxonomy import ATTRIBUTE_KINDS, Taxonomy

OTHER = "other"  # target kind of a product trendloom does not sell
PHRASE = "phrase"  # target kind of a phrase that names nothing ("cap sleeves", "网红")
Target = tuple[str, str]  # ("category" | attribute kind | OTHER, name)

_CJK_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECE = re.compile(rf"[a-z0-9]+|[{_CJK_CHAR}]+")
_CJK = re.compile(rf"[{_CJK_CHAR}]")
# plural-only words: their singular is another word ("short", "tight") or none at all
_PLURAL_ONLY = frozenset(
    "shorts tights pants jeans leggings trousers glasses sunglasses briefs boxers trunks flats heels joggers "
    "clothes plus".split()
)
# Chinese colour terms match with and without the suffix 色 when the word before it is itself a colour
# ("藏蓝" = "藏蓝色"), never when it is a thing ("咖啡色" is brown, "咖啡" is coffee)
_COLOUR_SUFFIX = "色"
_COLOUR_CHARS = frozenset("红橙黄绿青蓝紫灰白黑粉棕褐金银")


def singular(word: str) -> str:
    """A crude but consistent English singular; text and terms both go through it, so it only has to be
    the same for the same word, not correct English ("canvas" -> "canva" on both sides is fine)."""
    if len(word) <= 3 or not word.isalpha() or word in _PLURAL_ONLY:
        return word
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC) and lower case: "Ｔ恤" and "t恤" are one word."""
    return unicodedata.normalize("NFKC", text).lower()


def is_cjk(piece: str) -> bool:
    return bool(_CJK.match(piece))


def join(pieces: list[str]) -> str:
    """The lookup key of adjacent tokens: English words joined by a space, Chinese without."""
    out = ""
    for p in pieces:
        if out and not is_cjk(p) and not is_cjk(out[-1]):
            out += " "
        out += p
    return out


def canonical(term: str) -> str:
    """The key a term is stored under: normalised, punctuation dropped, English words singular."""
    pieces = [m.group() for m in _PIECE.finditer(normalise(term))]
    return join([p if is_cjk(p) else singular(p) for p in pieces])


@dataclass(frozen=True)
class Token:
    start: int  # character offsets in the original text
    end: int
    key: str  # canonical form
    cjk: bool  # a Chinese word (joined to its neighbours without a space)


def _targets_of(taxonomy: Taxonomy) -> dict[str, list[Target]]:
    """term text -> targets, from every name, synonym and Chinese name in the taxonomy."""
    out: dict[str, list[Target]] = {}

    def put(term: str, target: Target) -> None:
        if term.strip():
            lst = out.setdefault(term, [])
            if target not in lst:
                lst.append(target)

    for c in taxonomy.categories.values():
        for t in (c.name, c.zh, *c.synonyms):
            put(t, ("category", c.name))
    for kind in ATTRIBUTE_KINDS:
        for a in taxonomy.attributes[kind].values():
            for t in (a.name, a.zh, *a.synonyms):
                put(t, (kind, a.name))
                if kind == "color" and _CJK.search(t):
                    if not t.endswith(_COLOUR_SUFFIX):
                        put(t + _COLOUR_SUFFIX, (kind, a.name))
                    elif len(t) > 2 and t[-2] in _COLOUR_CHARS:
                        put(t[:-1], (kind, a.name))
    for word in taxonomy.other_products:
        put(word, (OTHER, word))
    for word in taxonomy.phrases:
        put(word, (PHRASE, word))
    return out


class TermIndex:
    """The taxonomy's terms by canonical key, and the tokenizer that finds them in text."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.terms: dict[str, tuple[Target, ...]] = {}
        for term, targets in _targets_of(taxonomy).items():
            key = canonical(term)
            if key:
                merged = list(self.terms.get(key, ()))
                merged += [t for t in targets if t not in merged]
                self.terms[key] = tuple(merged)
        self.prefixes = {k[:n] for k in self.terms for n in range(1, len(k) + 1)}
        self.cjk_terms = sorted({k for k in self.terms if all(is_cjk(ch) for ch in k)}, key=len, reverse=True)
        self.max_cjk = max((len(k) for k in self.cjk_terms), default=1)
        self._jieba = _jieba_with(self.cjk_terms)

    def tokens(self, text: str) -> list[Token]:
        """Word tokens of `text` with their offsets; Chinese runs segmented by jieba."""
        low = normalise(text)
        if len(low) != len(text):  # NFKC changed the length (rare ligatures): offsets from the normalised text
            text = low
        out: list[Token] = []
        for m in _PIECE.finditer(low):
            piece = m.group()
            if not is_cjk(piece):
                out.append(Token(m.start(), m.end(), singular(piece), False))
                continue
            for word, s, e in self._jieba.tokenize(piece, HMM=False):
                out.append(Token(m.start() + s, m.start() + e, word, True))
        return out

    def lookup(self, tokens: list[Token]) -> Iterator[tuple[int, int, str, tuple[Target, ...]]]:
        """(first token, end token, key, targets) of every term in `tokens`, left to right, longest first.

        A Chinese token that is no term is still read when terms cover all of it ("黑白" = 黑 + 白),
        never when they cover only part ("白领" stays unread)."""
        i, n = 0, len(tokens)
        while i < n:
            best: tuple[int, str, tuple[Target, ...]] | None = None
            key, prev_cjk = "", True
            for j in range(i, min(n, i + 6)):  # extend the key token by token while some term starts with it
                t = tokens[j]
                key += (" " if key and not (t.cjk or prev_cjk) else "") + t.key
                prev_cjk = t.cjk
                if key not in self.prefixes:
                    break
                found = self.terms.get(key)
                if found:
                    best = (j + 1, key, found)
            if best is not None:
                yield i, best[0], best[1], best[2]
                i = best[0]
                continue
            word = tokens[i].key
            if len(word) > 1 and tokens[i].cjk:
                for part in self._cover(word) or ():
                    yield i, i + 1, part, self.terms[part]
            i += 1

    def _cover(self, word: str) -> list[str] | None:
        """Terms that cover all of `word` left to right, longest first; None if some character is left."""
        parts, k = [], 0
        while k < len(word):
            for size in range(min(self.max_cjk, len(word) - k), 0, -1):
                if word[k:k + size] in self.terms:
                    parts.append(word[k:k + size])
                    k += size
                    break
            else:
                return None
        return parts


_jieba_lock = threading.Lock()


def _jieba_with(words: list[str]):  # type: ignore[no-untyped-def]
    """A private jieba tokenizer with `words` added (the global one is left alone)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _jieba_lock:
        tok = jieba.Tokenizer()
        tok.initialize()
        for w in words:
            tok.add_word(w, freq=max(tok.suggest_freq(w, tune=False), 10_000))
    return tok
