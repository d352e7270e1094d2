"""The product-language module's decisions, one at a time: how words are cut and normalised (lexicon),
which product heads a phrase and which attributes count (extract), and what a series name stands for
(series)."""

import copy

import numpy as np
import pytest

from generation.language.extract import Extraction, Mention, ProductLanguage
from generation.language.lexicon import OTHER, PHRASE, TermIndex, _targets_of, canonical, is_cjk, join, normalise, singular
from generation.language.series import KIND_WORDS, SeriesMapping, map_series_name
from generation.taxonomy import AttributeAddition, extended, load_taxonomy

TX = load_taxonomy()
LANGUAGE = ProductLanguage(TX)


def read(text: str) -> tuple:
    e = LANGUAGE.extract(text)
    return e.category, e.color, e.material, e.pattern, e.silhouette, e.details, e.other


def keys(text: str) -> list[str]:
    index = LANGUAGE.index
    return [k for _, _, k, _ in index.lookup(index.tokens(text))]


# --- lexicon: words --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word, one", [
    ("socks", "sock"), ("dresses", "dress"), ("watches", "watch"), ("boxes", "box"), ("brushes", "brush"),
    ("quizzes", "quizz"), ("hoodies", "hoodie"), ("tees", "tee"), ("cats", "cat"),
    ("dress", "dress"), ("cactus", "cactus"), ("basis", "basis"), ("navy", "navy"),
    ("bus", "bus"), ("gas", "gas"), ("t2s", "t2s"), ("shorts", "shorts"), ("leggings", "leggings"), ("jeans", "jeans"),
])
def test_singular(word, one):
    assert singular(word) == one


def test_normalise_folds_full_width_and_case():
    assert normalise("Ｔ恤 NAVY") == "t恤 navy"


def test_is_cjk_looks_at_the_first_character():
    assert is_cjk("卫衣") and is_cjk("卫a") and not is_cjk("t恤") and not is_cjk("") and not is_cjk("navy")


def test_join_puts_a_space_only_between_english_words():
    assert join(["navy", "blue"]) == "navy blue"
    assert join(["t", "恤"]) == "t恤" and join(["纯棉", "t"]) == "纯棉t" and join(["卫", "衣"]) == "卫衣"
    assert join([]) == ""


def test_canonical_drops_punctuation_and_plurals():
    assert canonical("Navy T-Shirts!") == "navy t shirt" and canonical("Ｔ恤") == "t恤" and canonical("--") == ""


def test_chinese_colours_match_with_and_without_the_colour_suffix():
    terms = LANGUAGE.index.terms
    assert terms["藏青"] == terms["藏青色"] == (("color", "navy"),)  # the zh name 藏青色 also reads as 藏青
    assert terms["深蓝色"] == (("color", "navy"),)  # the synonym 深蓝 also reads as 深蓝色


def test_a_chinese_colour_without_the_suffix_is_also_read_with_it():
    assert LANGUAGE.index.terms["纯黑色"] == (("color", "black"),)  # only 纯黑 is in the taxonomy


def test_an_added_colour_ending_in_the_suffix_is_also_read_without_it():
    grown = extended(TX, [AttributeAddition("color", "teal", "孔雀绿色", rgb="#008080")])
    targets = _targets_of(grown)
    assert targets["孔雀绿"] == targets["孔雀绿色"] == [("color", "teal")] and "孔雀" not in targets


def test_an_added_three_character_colour_ending_in_the_suffix_is_also_read_without_it():
    """湖蓝色 (lake blue): 蓝 before 色 is a colour character, and 湖蓝 keeps two characters."""
    grown = extended(TX, [AttributeAddition("color", "lake-blue", "湖蓝色", rgb="#2a7ab0")])
    assert _targets_of(grown)["湖蓝"] == [("color", "lake-blue")]


def test_a_two_character_colour_keeps_its_suffix():
    """褐色 is brown; 褐 alone (one character) is not read as a colour."""
    assert LANGUAGE.index.terms["褐色"] == (("color", "brown"),) and "褐" not in LANGUAGE.index.terms


def test_a_thing_before_the_colour_suffix_is_not_a_colour():
    assert LANGUAGE.index.terms["咖啡色"] == (("color", "brown"),) and "咖啡" not in LANGUAGE.index.terms


def test_a_term_may_name_several_things():
    terms = LANGUAGE.index.terms
    assert set(terms["jeans"]) == {("material", "denim"), (OTHER, "jeans")}
    assert set(terms["长裙"]) == {("category", "dress"), ("silhouette", "maxi")}


def test_terms_with_one_key_merge_their_targets_once():
    assert LANGUAGE.index.terms["sock"] == (("category", "socks"),)


def test_phrases_name_nothing():
    assert LANGUAGE.index.terms["cap sleeve"][0][0] == PHRASE


def test_chinese_terms_longest_first():
    cjk = LANGUAGE.index.cjk_terms
    assert [len(t) for t in cjk] == sorted((len(t) for t in cjk), reverse=True)
    assert LANGUAGE.index.max_cjk == len(cjk[0])


def test_tokens_carry_offsets_and_singulars():
    toks = LANGUAGE.index.tokens("Navy T-Shirts, 纯棉卫衣")
    assert [(t.start, t.end, t.key, t.cjk) for t in toks] == [
        (0, 4, "navy", False), (5, 6, "t", False), (7, 13, "shirt", False), (15, 17, "纯棉", True), (17, 19, "卫衣", True)]


def test_the_longest_term_wins():
    assert keys("navy blue cotton socks") == ["navy blue", "cotton", "sock"]


def test_a_key_stops_growing_when_no_term_starts_with_it():
    assert keys("navy navy") == ["navy", "navy"]


def test_a_chinese_word_covered_by_terms_is_read_part_by_part():
    assert keys("黑白") == ["黑", "白"]


def test_the_parts_of_a_covered_chinese_word_span_that_word():
    """黑白卫衣 is two tokens, 黑白 (0-2) and 卫衣 (2-4): black and white both lie on 黑白, not beyond it."""
    spans = [(m.start, m.end, m.term) for m in LANGUAGE.mentions("黑白卫衣")]
    assert spans == [(0, 2, "黑"), (0, 2, "白"), (2, 4, "卫衣")]


def test_a_chinese_word_only_partly_covered_is_not_read():
    assert keys("白云袜子") == ["袜子"]


def test_an_unknown_single_character_is_skipped():
    assert keys("白色旗袜") == ["白色", "袜"]


def with_terms(*words: str) -> TermIndex:
    """The shipped index with more English terms (each naming navy), without building a new tokenizer."""
    index = copy.copy(LANGUAGE.index)
    index.terms = {**index.terms, **{w: (("color", "navy"),) for w in words}}
    index.prefixes = index.prefixes | {w[:n] for w in words for n in range(1, len(w) + 1)}
    return index


def test_a_term_of_six_words_is_found():
    index = with_terms("alpha bravo charlie delta echo foxtrot")
    assert [k for _, _, k, _ in index.lookup(index.tokens("alpha bravo charlie delta echo foxtrot socks"))] == [
        "alpha bravo charlie delta echo foxtrot", "sock"]


def test_a_term_of_seven_words_is_too_long_to_look_up():
    index = with_terms("golf hotel india juliett kilo lima mike")
    assert [k for _, _, k, _ in index.lookup(index.tokens("golf hotel india juliett kilo lima mike"))] == []


# --- extract: the product ------------------------------------------------------------------------------------


def test_the_last_product_word_heads_the_phrase():
    assert read("hoodie socks")[0] == "socks" and read("卫衣袜子")[0] == "socks"


def test_after_a_boundary_word_a_later_product_is_what_it_goes_with():
    assert read("socks with hoodie")[0] == "socks" and read("socks for sneakers")[0] == "socks"
    assert read("卫衣送袜子")[0] == "hoodie"


def test_a_boundary_before_any_product_changes_nothing():
    assert read("for women socks")[0] == "socks"


def test_a_sentence_end_closes_the_product():
    assert read("hoodie. socks")[0] == "hoodie"


def test_a_chinese_sentence_end_closes_the_product_right_at_the_next_word():
    assert read("卫衣。袜子")[0] == "hoodie"


def test_a_sentence_end_before_the_first_product_closes_nothing():
    assert read("。袜子卫衣")[0] == "hoodie"


def test_a_dot_inside_a_word_is_no_sentence_end():
    assert read("dress.cap")[0] == "cap"


def test_a_product_we_do_not_sell_heads_as_other():
    assert read("Men Blue Jeans") == (None, "blue", "denim", None, None, (), "jeans")


def test_a_product_we_do_not_sell_after_ours_takes_the_head():
    assert read("socks watch")[0] == None and read("socks watch")[6] == "watch"  # noqa: E711


def test_a_product_we_do_not_sell_after_a_boundary_does_not():
    assert read("socks with watch")[0] == "socks" and read("socks with watch")[6] is None


def test_a_phrase_names_no_product():
    assert read("cap sleeves dress")[0] == "dress"


def test_no_product_no_category():
    assert read("navy") == (None, "navy", None, None, None, (), None)


# --- extract: the attributes ---------------------------------------------------------------------------------


def test_the_first_attribute_that_applies_counts():
    assert read("leather cotton socks")[2] == "cotton" and read("cotton leather sneakers")[2] == "cotton"


def test_an_attribute_that_does_not_apply_is_still_read_when_nothing_else_is():
    assert read("leather socks")[2] == "leather"


def test_the_first_mention_of_a_kind_counts():
    assert read("striped floral socks")[3] == "stripe" and read("pink purple socks")[1] == "pink"


def test_without_a_category_the_first_mention_counts():
    assert read("leather cotton")[2] == "leather"


def test_details_that_apply_are_kept_in_order_once():
    assert read("hoodie with zip pocket drawstring zip")[5] == ("zip", "pocket", "drawstring")


def test_details_that_do_not_apply_are_dropped():
    assert read("socks with zip pocket")[5] == ()


def test_a_silhouette_named_with_the_category():
    assert read("长裙")[:5] == ("dress", None, None, None, "maxi")


def test_a_colour_opening_a_latin_title_is_its_brand():
    assert read("Red Tape Men Black Sneakers")[1] == "black"


def test_two_colours_side_by_side_keep_the_first():
    assert read("Red Black Sneakers")[1] == "red"


def test_a_single_opening_colour_is_the_colour():
    assert read("Red Tape socks")[1] == "red"


def test_a_colour_not_at_the_start_is_no_brand():
    assert read("Men Red Tape Black sneakers")[1] == "red"


def test_chinese_titles_do_not_open_with_brands():
    assert read("红色 黑色 袜子")[1] == "red"


def test_a_title_opening_in_chinese_keeps_its_colour_whatever_follows():
    assert read("红色 tape 黑色 socks")[1] == "red"


def test_mentions_keep_where_each_word_was_read():
    e = LANGUAGE.extract("navy cotton socks")
    assert e.mentions == (Mention(0, 4, "navy", "color", "navy"), Mention(5, 11, "cotton", "material", "cotton"),
                          Mention(12, 17, "sock", "category", "socks"))


def test_extract_keeps_no_phrase_mentions_but_mentions_lists_them():
    assert LANGUAGE.extract("cap sleeves").mentions == ()
    assert {m.kind for m in LANGUAGE.mentions("cap sleeves")} == {PHRASE}


def test_mentions_lists_every_target_of_a_term():
    assert {(m.kind, m.name) for m in LANGUAGE.mentions("长裙")} == {("category", "dress"), ("silhouette", "maxi")}
    assert [(m.start, m.end) for m in LANGUAGE.mentions("a 长裙")] == [(2, 4), (2, 4)]


def test_attributes_colour_first_then_details():
    e = Extraction("t", category="hoodie", color="navy", material="cotton", pattern="stripe", silhouette="cropped",
                   details=("zip", "pocket"))
    assert e.attributes() == [("color", "navy"), ("material", "cotton"), ("pattern", "stripe"),
                              ("silhouette", "cropped"), ("detail", "zip"), ("detail", "pocket")]


def test_empty_means_no_category_and_no_attribute():
    assert Extraction("x").empty and not Extraction("x", category="socks").empty
    assert not Extraction("x", color="navy").empty and not Extraction("x", details=("zip",)).empty


def test_to_dict():
    assert LANGUAGE.extract("navy hoodie with zip").to_dict() == {
        "text": "navy hoodie with zip", "category": "hoodie", "color": "navy", "material": None, "pattern": None,
        "silhouette": None, "details": ["zip"]}


def test_extract_many_and_words():
    assert [e.category for e in LANGUAGE.extract_many(["socks", "卫衣"])] == ["socks", "hoodie"]
    assert LANGUAGE.words("Navy HOODIES 卫衣") == ["navy", "hoodie", "卫衣"]


@pytest.mark.parametrize("typed, meant", [
    ("cottn", "cotton"),  # 5 letters, one slip
    ("hoddie", "hoodie"),  # 6 letters, one slip (a swap)
    ("cotonn", "cotonn"),  # 6 letters, two slips: too many
    ("cirmosn", "crimson"),  # 7 letters, two slips
    ("navi", "navi"),  # 4 letters or fewer are left alone
    ("socks", "socks"),  # its singular is in the lexicon
    ("Hoddie tee", "hoodie tee"),
    ("卫衣 hoddie", "卫衣 hoodie"),
])
def test_spelling_slips_by_word_length(typed, meant):
    assert LANGUAGE.correct_spelling(typed) == meant


def test_colour_family():
    assert LANGUAGE.color_family("navy") == "blue" and LANGUAGE.color_family(None) is None


# --- series names -----------------------------------------------------------------------------------------------


def mapped(name: str, **kw) -> tuple:
    m = map_series_name(name, TX, LANGUAGE, **kw)
    return m.kind, m.attribute, m.category, m.how


def test_a_name_in_the_convention_is_read_field_by_field():
    m = map_series_name("cn_all_dress_color_sage-green", TX, LANGUAGE)
    assert (m.kind, m.attribute, m.category, m.how, m.region, m.segment) == ("color", "sage-green", "dress",
                                                                              "convention", "cn", "all")


def test_the_convention_with_an_unknown_word_reads_it_as_its_kind():
    m = map_series_name("cn_women_socks_color_dark-blue", TX, LANGUAGE)
    assert (m.kind, m.attribute, m.category, m.how, m.region, m.segment) == ("color", "navy", "socks", "lexicon",
                                                                              "cn", "women")


def test_the_convention_with_an_unknown_word_of_another_kind_is_unmapped():
    m = map_series_name("cn_all_socks_material_dark-blue", TX, LANGUAGE)
    assert (m.kind, m.attribute, m.category, m.how) == (None, None, "socks", "unmapped")


def test_unknown_fields_of_the_convention_are_dropped():
    m = map_series_name("xx_yy_rockets_color_dark-blue", TX, LANGUAGE)
    assert (m.kind, m.attribute, m.category, m.region, m.segment) == ("color", "navy", None, None, None)


def test_five_fields_with_a_kind_that_is_no_attribute_kind_are_read_as_free_text():
    assert mapped("cn_all_socks_weird_navy") == ("color", "navy", "socks", "lexicon")


def test_a_leading_kind_word_says_which_kind_to_take():
    assert mapped("colour navy linen") == ("color", "navy", None, "lexicon")
    assert mapped("print_navy_stripe") == ("pattern", "stripe", None, "lexicon")
    assert mapped("fabric_leather_socks") == ("material", "leather", "socks", "lexicon")


def test_kind_words_are_read_in_any_case():
    assert mapped("COLOR_navy") == ("color", "navy", None, "lexicon") and KIND_WORDS["fit"] == "silhouette"


def test_a_kind_word_alone_maps_to_nothing():
    assert mapped("color") == (None, None, None, "unmapped")


def test_a_kind_word_naming_nothing_of_its_kind_is_unmapped():
    assert mapped("fabric_navy") == (None, None, None, "unmapped")


def test_without_a_kind_word_one_attribute_kind_maps():
    assert mapped("navy socks") == ("color", "navy", "socks", "lexicon")
    assert mapped("zip pocket") == ("detail", "zip", None, "lexicon")


def test_without_a_kind_word_two_attribute_kinds_are_unmapped():
    assert mapped("navy linen") == (None, None, None, "unmapped")


def test_a_category_alone_is_unmapped_but_kept():
    assert mapped("socks") == (None, None, "socks", "unmapped")


def test_underscores_are_spaces_and_edges_are_trimmed():
    assert mapped("color_sage_green") == ("color", "sage-green", None, "lexicon")
    assert mapped("  navy  ") == ("color", "navy", None, "lexicon")


def one_hot_embed(alias: dict[str, str]):
    """Each text its own direction; `alias` sends a text to another's direction."""
    axes: dict[str, int] = {}

    def embed(texts):
        out = np.zeros((len(texts), 4096), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, axes.setdefault(alias.get(t, t), len(axes))] = 1.0
        return out

    return embed


def test_a_name_the_lexicon_cannot_read_may_be_matched_by_embedding():
    embed = one_hot_embed({"midnight sky": "navy blue"})
    assert mapped("color_midnight_sky", embed=embed) == ("color", "navy", None, "embedding")
    assert mapped("midnight sky", embed=embed) == ("color", "navy", None, "embedding")


def test_an_embedding_match_of_another_kind_than_the_kind_word_is_refused():
    embed = one_hot_embed({"midnight sky": "navy blue"})
    assert mapped("fabric_midnight_sky", embed=embed) == (None, None, None, "unmapped")


def test_an_embedding_match_to_a_category_maps_nothing():
    embed = one_hot_embed({"foot warmers": "socks"})
    assert mapped("foot warmers", embed=embed)[0] is None


def test_the_embedding_is_not_asked_when_the_lexicon_read_an_attribute():
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return np.ones((len(texts), 8), dtype=np.float32)

    assert mapped("navy linen", embed=embed) == (None, None, None, "unmapped") and calls == []


def test_a_series_mapping_says_whether_it_is_mapped():
    m = SeriesMapping("s", "color", "navy", None, "lexicon")
    assert m.mapped and not SeriesMapping("s", None, None, None, "unmapped").mapped
    assert m.to_dict() == {"series": "s", "kind": "color", "attribute": "navy", "category": None, "how": "lexicon"}
