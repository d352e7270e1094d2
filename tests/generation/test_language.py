"""The product-language module: known answers in English and Chinese, and series names."""

import pytest

from generation.errors import TaxonomyError
from generation.language.extract import ProductLanguage
from generation.language.series import map_series_name
from generation.taxonomy import AttributeAddition, check_addition, extended, load_taxonomy

TX = load_taxonomy()
LANGUAGE = ProductLanguage(TX)


def read(text: str) -> tuple:
    e = LANGUAGE.extract(text)
    return e.category, e.color, e.material, e.pattern


@pytest.mark.parametrize("text, expected", [
    ("Navy Blue T-Shirts, 100% cotton", ("t-shirt", "navy", "cotton", None)),
    ("striped tees", ("t-shirt", None, None, "stripe")),
    ("dark blue hoodie", ("hoodie", "navy", None, None)),
    ("2025新款韩版宽松百搭藏蓝色纯棉连帽卫衣女", ("hoodie", "navy", "cotton", None)),
    ("深蓝短袖", ("t-shirt", "navy", None, None)),
    ("黑白条纹T恤女", ("t-shirt", "black", None, "stripe")),
    ("blue dress", ("dress", "blue", None, None)),
    ("绿色围巾", ("scarf", "green", None, None)),
    ("yellow socks", ("socks", "yellow", None, None)),
    ("purple phone case", ("phone-case", "purple", None, None)),
])
def test_everyday_words_in_both_languages(text, expected):
    assert read(text) == expected


def test_nothing_is_guessed_where_the_text_names_no_product_of_ours():
    assert read("Men Black Watch") == (None, "black", None, None)
    assert LANGUAGE.extract("Men Black Watch").other == "watch"
    assert read("Peter England Men Blue Jeans") == (None, "blue", "denim", None)  # jeans: denim, not ours
    assert read("what a sunny day") == (None, None, None, None)


@pytest.mark.parametrize("text, category", [
    ("Nike white sneaker socks", "socks"),  # the head noun is last
    ("socks for sneakers", "socks"),  # ... until "for" says what the rest goes with
    ("卫衣送袜子", "hoodie"),
    ("Dress with pockets", "dress"),
    ("Trousers in sweatshirt fabric", None),
    ("Short dress with cap sleeves", "dress"),  # "cap sleeves" names no cap
])
def test_the_category_is_the_head_of_the_product_phrase(text, category):
    assert LANGUAGE.extract(text).category == category


@pytest.mark.parametrize("text", ["白领通勤衬衫", "网红同款耳机", "蓝牙耳机", "红包封面"])
def test_colour_characters_inside_other_words_are_not_colours(text):
    assert LANGUAGE.extract(text).color is None


def test_a_brand_that_opens_a_latin_title_is_not_its_colour():
    assert LANGUAGE.extract("Red Tape Men Black Sneakers").color == "black"
    assert LANGUAGE.extract("Red & Blue striped tee").color == "red"  # two colours side by side: the first
    assert LANGUAGE.extract("鼠尾草绿抱枕套配米白沙发").color == "sage-green"  # Chinese titles do not open with brands


def test_attributes_that_apply_come_first_and_the_others_are_still_read():
    assert LANGUAGE.extract("leather strap cotton socks").material == "cotton"
    assert read("驼色 羊绒袜") == ("socks", "camel", "cashmere", None)  # cashmere socks: we would not make them


def test_mentions_say_where_each_word_was_read():
    text = "2025新款藏蓝色卫衣"
    found = {(m.kind, m.name): text[m.start:m.end] for m in LANGUAGE.extract(text).mentions}
    assert found == {("color", "navy"): "藏蓝色", ("category", "hoodie"): "卫衣"}


def test_colour_families_group_shades():
    assert [LANGUAGE.color_family(c) for c in ("navy", "sky-blue", "cobalt", "blue")] == ["blue"] * 4
    assert LANGUAGE.color_family(None) is None


@pytest.mark.parametrize("name, expected", [
    ("cn_all_dress_color_sage-green", ("color", "sage-green", "dress", "convention")),
    ("color_sage_green", ("color", "sage-green", None, "lexicon")),
    ("fabric_corduroy", ("material", "corduroy", None, "lexicon")),
    ("silhouette_wide-leg_trousers", ("silhouette", "wide-leg", None, "lexicon")),
    ("linen dress", ("material", "linen", "dress", "lexicon")),
    ("藏蓝卫衣", ("color", "navy", "hoodie", "lexicon")),
    ("navy linen", (None, None, None, "unmapped")),  # two kinds and no kind word: which series is it?
    ("color_teal", (None, None, None, "unmapped")),
    ("silhouette_trench_coat", (None, None, None, "unmapped")),
])
def test_series_names_map_to_one_attribute_or_to_nothing(name, expected):
    m = map_series_name(name, TX, LANGUAGE)
    assert (m.kind, m.attribute, m.category, m.how) == expected


def test_an_added_attribute_is_read_in_both_languages():
    grown = extended(TX, [AttributeAddition("color", "teal", "蓝绿色", ("dark cyan",), None, "#008080")])
    language = ProductLanguage(grown)
    assert language.extract("Teal hoodie").color == "teal"
    assert language.extract("蓝绿色卫衣").color == "teal"
    assert map_series_name("color_teal", grown, language).attribute == "teal"


def test_more_words_for_an_existing_attribute_extend_it():
    grown = extended(TX, [AttributeAddition("color", "navy", synonyms=("marine",))])
    assert ProductLanguage(grown).extract("marine socks").color == "navy"


@pytest.mark.parametrize("add, says", [
    (AttributeAddition("color", "teal", "", rgb="#008080"), "Chinese name"),
    (AttributeAddition("color", "teal", "蓝绿色"), "#rrggbb"),
    (AttributeAddition("color", "Teal Blue", "蓝绿色", rgb="#008080"), "lowercase"),
    (AttributeAddition("material", "velour", "丝绒", categories=("rockets",)), "unknown category"),
    (AttributeAddition("texture", "fuzzy", "毛"), "unknown attribute kind"),
])
def test_a_bad_addition_says_what_is_allowed(add, says):
    with pytest.raises(TaxonomyError, match=says):
        check_addition(TX, add)


def test_a_convention_name_with_an_unknown_word_is_read_as_its_own_kind():
    m = map_series_name("cn_all_socks_color_plaid-ish", TX, LANGUAGE)
    assert (m.kind, m.attribute, m.category, m.how, m.region) == (None, None, "socks", "unmapped", "cn")
    m = map_series_name("cn_all_socks_color_dark-blue", TX, LANGUAGE)
    assert (m.kind, m.attribute, m.category, m.how) == ("color", "navy", "socks", "lexicon")


def test_a_name_the_lexicon_cannot_read_may_be_matched_by_embedding_never_over_the_lexicon():
    import numpy as np

    axes: dict[str, int] = {}

    def embed(texts):  # "midnight sky" is "navy blue"; every other text its own direction
        out = np.zeros((len(texts), 4096), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, axes.setdefault({"midnight sky": "navy blue"}.get(t, t), len(axes))] = 1.0
        return out

    m = map_series_name("color_midnight_sky", TX, LANGUAGE, embed=embed)
    assert (m.kind, m.attribute, m.how) == ("color", "navy", "embedding")
    assert map_series_name("color_sage_green", TX, LANGUAGE, embed=embed).how == "lexicon"


@pytest.mark.parametrize("typed, meant", [("hoddie", "hoodie"), ("tshrit", "tshirt"), ("phnoe case", "phone case"),
                                          ("cotten tee", "cotton tee"), ("asdfgh", "asdfgh"), ("Boots", "Boots")])
def test_search_queries_forgive_a_typing_slip_but_not_a_strange_word(typed, meant):
    assert LANGUAGE.correct_spelling(typed) == meant
