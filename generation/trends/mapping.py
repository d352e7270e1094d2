"""Map the text of a social post onto the taxonomy: a category and the attributes it mentions.

Two stages:

1. **Keywords** (`match_post`): the product-language module (`generation.language`) reads the post:
   English and Chinese words of the taxonomy, longest first ("dark green" is forest-green, not a stray
   "green"), Chinese segmented by jieba. Attributes are every mentioned attribute that applies to the
   category it finds (a mention that does not apply, e.g. "leather" on socks, is ignored).
2. **Embeddings** (`EmbeddingMapper`), only for posts the keywords left without a category or
   without any attribute: the post's English words and word pairs are embedded and each is matched
   to its nearest taxonomy label (English names and synonyms) by cosine similarity; a match counts
   when the similarity reaches the threshold (one for categories, a stricter one for attributes).
   It only fills in what keywords did not find.
   MiniLM is English-only; Chinese is covered by stage 1.

The thresholds were set by measurement (`scripts/bench_trends.py --only posts`, BENCHMARKS.md) on
300 labelled synthetic posts written with words that are *not* in the taxonomy ("gown", "kicks",
"midnight blue", "houndstooth"...) and off-topic posts; tuned on one half, reported on the other.
Rule: the lowest threshold whose tuning-half precision is >= 0.95 (categories) or >= 0.8 with at
least 5 assignments (attributes). all-MiniLM-L6-v2 is good at garment nouns and weak at single
colour or material words ("merlot" lands nearest "merino", "kicks" nearest "kickstand"), so:
- categories at 0.65: held-out precision 1.00, recall 0.43, no off-topic post mapped (at 0.60
  precision already drops to 0.92 and off-topic posts start to get a category);
- attributes at 0.80: held-out precision 1.00 but recall only 0.05 - below that, precision falls
  to 0.6-0.8. The embedding stage is a safety net for categories; new attribute words belong in the
  taxonomy's synonyms, which is where a merchandiser extends it.
A phrase must also beat the nearest label of any *other* target by 0.05 (`EMBED_MARGIN`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from generation.language.extract import ProductLanguage
from generation.taxonomy import ATTRIBUTE_KINDS, Taxonomy

EMBED_THRESHOLD = 0.65  # categories
EMBED_ATTRIBUTE_THRESHOLD = 0.80  # attributes
EMBED_MARGIN = 0.05
Embed = Callable[[Sequence[str]], np.ndarray]
Target = tuple[str, str]  # ("category", name) or (attribute kind, name)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z][a-z0-9'&-]*")
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i in is it its just my new of on or our so that the "
    "this to too was we what with you your me im i'm got get so much very really can't cant don't this "
    "these those all any some more most".split()
)
# Fashion-generic words: they sit close to many labels ("wearing" ~ dress, "top" ~ low-top), so they
# never count on their own; inside a word pair ("hooded top") they do.
GENERIC = frozenset(
    "wear wearing wore worn outfit outfits look looks looking style styled fit fits top tops print prints "
    "love loving loved obsessed cute perfect found today weekend stop new haul ordered feel feels amazing "
    "season everywhere anyone else best favourite favorite".split()
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


def match_post(language: ProductLanguage, text: str) -> PostMatch:
    """The keyword stage: what the product-language module reads in one post. Its attributes are those
    mentioned that apply to its category (a "leather" mention on socks is ignored), in order of mention."""
    found = language.extract(text)
    targets = [(m.kind, m.name) for m in found.mentions if m.kind == "category" or m.kind in ATTRIBUTE_KINDS]
    out = PostMatch(keyword_targets=targets)
    out.category = found.category
    if out.category is not None:
        _add_attributes(out, language.taxonomy, targets)
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
    """Adjacent English word pairs, then single words, of a post: stopwords dropped, generic words
    (`GENERIC`) only inside pairs."""
    words = [w.strip("'-&") for w in _WORD.findall(text.lower())]
    words = [w for w in words if w and w not in STOPWORDS and len(w) > 1]
    pairs = [f"{a} {b}" for a, b in zip(words, words[1:]) if not (a in GENERIC and b in GENERIC)]
    return pairs + [w for w in words if w not in GENERIC]


class EmbeddingMapper:
    """Nearest taxonomy label of each phrase by cosine similarity, kept when it is at least
    `threshold` (a category label) or `attribute_threshold` (an attribute label) and beats the best
    label of any other target by `margin`.

    `embed` maps texts to L2-normalised float32 rows (e.g. `TextEmbedder.encode`). Labels are
    embedded once, here; phrases once per distinct phrase across a batch of posts."""

    def __init__(self, taxonomy: Taxonomy, embed: Embed, *, threshold: float = EMBED_THRESHOLD,
                 attribute_threshold: float = EMBED_ATTRIBUTE_THRESHOLD, margin: float = EMBED_MARGIN) -> None:
        for name, v in (("threshold", threshold), ("attribute_threshold", attribute_threshold)):
            if not 0.0 < v < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {v}")
        self.taxonomy, self.embed, self.margin = taxonomy, embed, margin
        self.threshold, self.attribute_threshold = threshold, attribute_threshold
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
        out: dict[str, tuple[Target, float]] = {}
        for i, p in enumerate(distinct):
            order = np.argsort(-sims[i])
            top = self.label_targets[int(order[0])]
            if sims[i, order[0]] < (self.threshold if top[0] == "category" else self.attribute_threshold):
                continue
            # ambiguity: the best label of another target must trail by at least `margin`
            rival = next((sims[i, j] for j in order[1:] if self.label_targets[int(j)] != top), -1.0)
            if sims[i, order[0]] - rival >= self.margin:
                out[p] = (top, float(sims[i, order[0]]))
        return out

    def complete(self, texts: Sequence[str], matches: list[PostMatch]) -> None:
        """Fill in, in place, the category and attribute kinds that keywords did not find."""
        per_post = [phrases(t) for t in texts]
        table = self.nearest([p for ps in per_post for p in ps])
        for match, ps in zip(matches, per_post):
            covered = {w for p in ps if " " in p and p in table for w in p.split(" ")}
            targets = [table[p][0] for p in ps if p in table and (" " in p or p not in covered)]
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
