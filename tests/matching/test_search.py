"""Hybrid search: known answers on a handful of designs."""

import numpy as np

from matching.search import SearchDoc, SearchIndex, SearchQuery


def doc(i, category, color, material, words):
    fam = {"navy": "blue", "sky-blue": "blue", "red": "red", "black": "black"}[color]
    return SearchDoc(i, category, frozenset({("color", color), ("material", material)}), frozenset({fam}),
                     tuple(words.split()))


DOCS = [
    doc(0, "hoodie", "navy", "cotton", "navy cotton hoodie 藏青色 卫衣"),
    doc(1, "hoodie", "red", "fleece", "red fleece hoodie 红色 卫衣 sunset"),
    doc(2, "phone-case", "navy", "silicone", "navy silicone phone case 手机壳"),
    doc(3, "socks", "sky-blue", "cotton", "sky blue cotton sock 袜子"),
    doc(4, "socks", "black", "cotton", "black cotton sock 袜子"),
]
INDEX = SearchIndex(DOCS)


def ids(hits):
    return [h.id for h in hits]


def test_a_named_category_comes_first_then_its_attributes():
    hits = INDEX.search(SearchQuery("hoodie", (("color", "navy"),), "blue", ("navy", "hoodie")))
    assert ids(hits)[:2] == [0, 1] and hits[0].matched[:2] == ("category", "attributes")
    assert 2 in ids(hits)  # the navy phone case still follows: it shares a colour and a word


def test_a_colour_of_the_same_family_counts_half():
    hits = INDEX.search(SearchQuery("socks", (("color", "blue"),), "blue", ("blue", "sock")))
    assert ids(hits)[:2] == [3, 4]  # sky blue is a blue; black is not


def test_nothing_named_and_no_word_shared_finds_nothing_whatever_the_embedding_says():
    q = SearchQuery(words=("zzzqqq",))
    assert INDEX.search(q, cosine=np.full(5, 0.3, dtype=np.float32)) == []
    assert ids(INDEX.search(q, cosine=np.array([0, 0, 0.9, 0, 0], dtype=np.float32))) == [2]  # above the floor


def test_a_word_of_a_name_finds_its_design():
    assert ids(INDEX.search(SearchQuery(words=("sunset",)))) == [1]


def test_the_allowed_mask_filters_and_k_limits():
    mask = np.array([False, True, True, True, True])
    hits = INDEX.search(SearchQuery("hoodie", words=("hoodie",)), allowed=mask, k=1)
    assert ids(hits) == [1]


def test_an_empty_index_finds_nothing():
    assert SearchIndex([]).search(SearchQuery("hoodie")) == []


def test_a_product_nobody_here_makes_finds_nothing_even_if_its_material_matches():
    assert INDEX.search(SearchQuery(attributes=(("material", "cotton"),), words=("jeans",), unsold="jeans")) == []
