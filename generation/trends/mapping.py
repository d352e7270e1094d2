"""Map the text of a social post onto the taxonomy: a category and the attributes it mentions.

Two stages:

1. **Keywords** (`KeywordMapper`): every category and attribute is known by its name (with '-' read
   as a space), its English synonyms, its Chinese name (`zh`) and Chinese synonyms, all from
   `taxonomy.json`. English terms match whole words, with an optional plural `s`/`es`; Chinese
   terms match as substrings (Chinese has no spaces). Overlapping matches keep the longest, so
   "dark green" is forest-green, not a stray "green". The category is the first one mentioned;
   attributes are every mentioned attribute that applies to that category (a mention that does not
   apply, e.g. "leather" on socks, is ignored).
2. **Embeddings** (`EmbeddingMapper`), only for posts the keywords left without a category or
   without any attribute: the post's English words and word pairs are embedded and each is matched
   to its nearest taxonomy label (English names and synonyms) by cosine similarity; a match counts
   when the similarity is at least `threshold`. It only fills in what keywords did not find.
   MiniLM is English-only; Chinese is covered by the `zh` names and synonyms of stage 1.

The default threshold, `EMBED_THRESHOLD`, was set by measurement on held-out labelled synthetic
posts that use words absent from the taxonomy ("gown", "kicks", "wine red"...) plus off-topic posts
(see `scripts/bench_trends.py --posts-only` and BENCHMARKS.md): at 0.60 the all-MiniLM-L6-v2
phrase matches were precise enough to add signal (precision >= 0.9 on the held-out half) while
still recovering most paraphrases; below ~0.5 unrelated words start to match labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from generation.taxonomy import ATTRIBUTE_KINDS, Taxonomy

EMBED_THRESHOLD = 0.60
Embed = Callable[[Sequence[str]], np.ndarray]
Target = tuple[str, str]  # ("category", name) or (attribute kind, name)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z][a-z0-9'&-]*")
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i in is it its just my new of on or our so that the "
    "this to too was we what with you your me im i'm got get love loving obsessed anyone else everywhere "
    "season ordered haul feels amazing really very so much".split()
)


@dataclass
class PostMatch:
    """What one post was mapped to, and how (`how`: keyword, embedding, mixed or unmapped)."""

    category: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)  # kind -> names, in order of mention
    how: str = "unmapped"
    keyword_targets: list[Target] = field(default_factory=list)  # every keyword hit, applicable or not

    def pairs(self) -> list[Target]:
        return [(k, a) for k, names in self.attributes.items() for a in names]


def _variants(name: str) -> set[str]:
    base = name.lower().strip()
    return {base, base.replace("-", " ")} if base else set()


class KeywordMapper:
    """Whole-word English and substring Chinese matching of taxonomy names and synonyms."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        terms: dict[str, Target] = {}
        for c in taxonomy.categories.values():
            for t in _variants(c.name) | set().union(*(_variants(s) for s in (*c.synonyms, c.zh))):
                terms.setdefault(t, ("category", c.name))
        for kind in ATTRIBUTE_KINDS:
            for a in taxonomy.attributes[kind].values():
                for t in _variants(a.name) | set().union(*(_variants(s) for s in (*a.synonyms, a.zh))):
                    terms.setdefault(t, (kind, a.name))
        self.terms = terms
        latin = sorted((t for t in terms if not _CJK.search(t)), key=len, reverse=True)
        self._latin = re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(t) for t in latin) + r")(?:s|es)?(?![a-z0-9])")
        self._cjk = sorted((t for t in terms if _CJK.search(t)), key=len, reverse=True)

    def spans(self, text: str) -> list[tuple[int, int, Target]]:
        """Non-overlapping (start, end, target) matches in `text`, longest first, then in text order."""
        low = text.lower()
        found = [(m.start(), m.end(), self.terms[m.group(1)]) for m in self._latin.finditer(low)]
        for term in self._cjk:
            start = low.find(term)
            while start >= 0:
                found.append((start, start + len(term), self.terms[term]))
                start = low.find(term, start + 1)
        found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
        taken: list[tuple[int, int, Target]] = []
        for s, e, tgt in found:
            if all(e <= ts or s >= te for ts, te, _ in taken):
                taken.append((s, e, tgt))
        return sorted(taken)

    def match(self, text: str) -> PostMatch:
        """The keyword mapping of one post (`keyword_targets` keeps every hit for the embedding stage)."""
        spans = self.spans(text)
        out = PostMatch(keyword_targets=[tgt for _, _, tgt in spans])
        out.category = next((name for _, _, (kind, name) in spans if kind == "category"), None)
        if out.category is not None:
            _add_attributes(out, self.taxonomy, [tgt for _, _, tgt in spans])
            out.how = "keyword"
        return out


def _add_attributes(out: PostMatch, taxonomy: Taxonomy, targets: Sequence[Target],
                    only_kinds: set[str] | None = None) -> bool:
    """Add the attributes among `targets` that apply to `out.category`; True if any was added."""
    added = False
    assert out.category is not None
    for kind, name in targets:
        if kind == "category" or (only_kinds is not None and kind not in only_kinds):
            continue
        if taxonomy.attributes[kind][name].applies_to(out.category) and name not in out.attributes.get(kind, []):
            out.attributes.setdefault(kind, []).append(name)
            added = True
    return added


def phrases(text: str) -> list[str]:
    """English words and adjacent word pairs of a post, without stopwords, in text order."""
    words = [w.strip("'-&") for w in _WORD.findall(text.lower())]
    words = [w for w in words if w and w not in STOPWORDS and len(w) > 1]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


class EmbeddingMapper:
    """Nearest taxonomy label of each phrase by cosine similarity, kept when >= `threshold`.

    `embed` maps texts to L2-normalised float32 rows (e.g. `TextEmbedder.encode`). Labels are
    embedded once, here; phrases once per distinct phrase across a batch of posts."""

    def __init__(self, taxonomy: Taxonomy, embed: Embed, *, threshold: float = EMBED_THRESHOLD) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        self.taxonomy, self.embed, self.threshold = taxonomy, embed, threshold
        labels: dict[str, Target] = {}
        for c in taxonomy.categories.values():
            for t in (c.name.replace("-", " "), *c.synonyms):
                if not _CJK.search(t):
                    labels.setdefault(t.lower(), ("category", c.name))
        for kind in ATTRIBUTE_KINDS:
            for a in taxonomy.attributes[kind].values():
                for t in (a.name.replace("-", " "), *a.synonyms):
                    if not _CJK.search(t):
                        labels.setdefault(t.lower(), (kind, a.name))
        self.label_texts = list(labels)
        self.label_targets = [labels[t] for t in self.label_texts]
        self.label_vecs = _checked(embed(self.label_texts), len(self.label_texts))  # (L, d)

    def nearest(self, texts: Sequence[str]) -> dict[str, tuple[Target, float]]:
        """Each distinct phrase -> (its nearest label's target, similarity), for those >= threshold."""
        distinct = list(dict.fromkeys(texts))
        if not distinct:
            return {}
        vecs = _checked(self.embed(distinct), len(distinct))  # (P, d)
        sims = vecs @ self.label_vecs.T  # (P, L) cosine, rows and labels are unit length
        best = sims.argmax(axis=1)
        return {p: (self.label_targets[int(j)], float(sims[i, j]))
                for i, (p, j) in enumerate(zip(distinct, best)) if sims[i, j] >= self.threshold}

    def complete(self, texts: Sequence[str], matches: list[PostMatch]) -> None:
        """Fill in, in place, the category and attribute kinds that keywords did not find."""
        per_post = [phrases(t) for t in texts]
        table = self.nearest([p for ps in per_post for p in ps])
        for match, ps in zip(matches, per_post):
            targets = [table[p][0] for p in ps if p in table]
            before = match.how
            if match.category is None:
                match.category = next((name for kind, name in targets if kind == "category"), None)
                if match.category is None:
                    continue
                _add_attributes(match, self.taxonomy, match.keyword_targets)
            missing = {k for k in ATTRIBUTE_KINDS if k not in match.attributes}
            added = _add_attributes(match, self.taxonomy, targets, missing)
            if before == "unmapped":
                match.how = "embedding"
            elif added:
                match.how = "mixed"


def _checked(vecs: np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(vecs, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"embed returned shape {arr.shape}, expected ({n}, dim)")
    return arr
