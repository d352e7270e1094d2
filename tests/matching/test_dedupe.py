"""De-duplication: the same facility written two ways is one; different addresses never merge."""

import pytest

from matching.factories.dedupe import (
    Site,
    address_key,
    find_duplicates,
    match_pair,
    name_key,
    numbers_differ,
)

ADDRESS = "No. 8 Shuangbao West Road, Ouhai District, Wenzhou, Zhejiang"


@pytest.mark.parametrize("a, b", [
    (("Quanzhou Xinxing Footwear Co., Ltd.", ADDRESS), ("QUANZHOU XINXING FOOTWEAR CO LTD", ADDRESS)),
    (("Xinxing Footwear Company Limited", ADDRESS), ("Xinxing Footwear Co., Ltd", ADDRESS.upper())),
    (("Xinxing Footwear Co., Ltd.", ADDRESS), ("Xinxing Footwear Co., Ltd.", "No.8 Shuangbao West Rd.,Ouhai Dist.,Wenzhou,Zhejiang")),
    (("Xinxing Footwear Co., Ltd.", ADDRESS), ("Xinxing Footwear Co., Ltd.", ADDRESS + ", China")),  # the country added
    (("Xinxing Footwear Co., Ltd.", ADDRESS), ("Xin Xing Footwear Co., Ltd.", ADDRESS)),  # a space inside a word
    (("Xinxing Footwear Co., Ltd.", ADDRESS), ("Xinxing Fotwear Co., Ltd.", ADDRESS)),  # one typo
    (("m e r c u r y apparel", "lot 2 seethawaka park"), ("Mercury Apparel (Pvt) Ltd", "Lot 2, Seethawaka Park")),
    (("Industrias Merlet S.A. de C.V.", "Calle Circunvalacion, Pol. A No.3, Antiguo Cuscatlan"),
     ("Industrias Merlet S. A. de C.V.", "Calle Circunvalación, Pol. A, Nº 3, Antiguo Cuscatlán")),
    (("Felix", ""), ("FELIX", "")),  # no address on either side: the same name is the same facility
])
def test_the_same_facility_written_two_ways_is_one(a, b):
    same, name_score, address_score, why = match_pair(Site(*a, "CN"), Site(*b, "CN"))
    assert same, why
    assert name_score >= 88 and address_score >= 80


@pytest.mark.parametrize("a, b, reason", [
    (("Felix", "Lot 10 Z.I. Utique 7060"), ("Felix", "Lot 12 Z.I. Utique 7060"), "different numbers"),
    (("Xinxing Footwear Co.", "No. 8 Yingbin Road, Weilian District, Wenzhou"),
     ("Xinxing Footwear Co.", "No. 8 Binhai Road, Zhongjia District, Wenzhou"), "different places"),
    (("Xinxing Footwear Co.", ADDRESS), ("Xinxing Footwear Co.", ""), "one has no address"),
    (("Xinxing Footwear Co.", ADDRESS), ("Hengyuan Textile Co.", ADDRESS), "names"),
    (("Soorty Enterprises Unit 10", "Plot 42 Sector 15 Korangi"), ("Soorty Enterprises Unit 6", "Plot 44 Sector 15 Korangi"),
     "different numbers"),
])
def test_different_addresses_are_never_one_facility(a, b, reason):
    same, *_, why = match_pair(Site(*a, "CN"), Site(*b, "CN"))
    assert not same and reason in why


def test_never_across_countries():
    assert match_pair(Site("Casual Wear LLC", "Plot 675", "JO"), Site("Casual Wear LLC", "Plot 675", "IL"))[0] is False


def test_keys_set_aside_case_punctuation_legal_suffixes_and_common_address_words():
    assert name_key("The Xinxing Footwear Co., Ltd.") == name_key("XINXING FOOTWEAR COMPANY LIMITED") == "xinxing footwear"
    assert name_key("S.A. de C.V.") == "sa de cv"  # nothing but legal words: kept, not emptied
    assert address_key("No. 8 Shuangbao Road, Sri Lanka", "LK") == address_key("no 8 shuangbao rd", "LK") == "no 8 shuangbao rd"
    assert numbers_differ(frozenset({"99", "101"}), frozenset({"99101"})) == []  # run together
    assert numbers_differ(frozenset({"7", "8", "100043"}), frozenset({"7", "8", "11037"})) == []  # a mistyped postcode
    assert numbers_differ(frozenset({"28"}), frozenset({"2820"})) == ["28"]


def test_find_duplicates_keeps_the_first_and_reports_each_merge():
    sites = [Site("Xinxing Footwear Co., Ltd.", ADDRESS, "CN"),
             Site("Hengyuan Textile Co., Ltd.", "No. 3 Jinhu Road, Ningbo", "CN"),
             Site("XINXING FOOTWEAR CO LTD", ADDRESS.upper(), "CN"),
             Site("Xinxing Footwear Co., Ltd.", "No. 9 Jinhu Road, Ningbo", "CN"),  # same name, another place
             Site("Xinxing Footwear Co., Ltd.", ADDRESS, "VN")]
    merges = find_duplicates(sites)
    assert [(m.kept, m.merged) for m in merges] == [(0, 2)]
    assert "same name" in merges[0].reason and "same address" in merges[0].reason


def test_stored_sites_are_kept_and_never_merged_into_one_another():
    stored = [Site("Xinxing Footwear Co.", ADDRESS, "CN"), Site("Xinxing Footwear Company", ADDRESS, "CN")]
    new = [Site("XINXING FOOTWEAR CO", ADDRESS, "CN")]
    merges = find_duplicates(stored + new, fixed=2)
    assert [(m.kept, m.merged) for m in merges] == [(0, 2)]


def test_a_chain_of_near_matches_does_not_merge_two_places():
    """B is close to A and C close to B, but C is not A's place: C joins no cluster through B."""
    sites = [Site("Hengyuan Knitting Co.", "No. 5 Jinhu Road, Ningbo", "CN"),
             Site("Hengyuan Knitting Co.", "No. 5 Jinhu Road, Ningbo, Zhejiang", "CN"),
             Site("Hengyuan Knitting Co.", "No. 5 Yingbin Road, Ningbo, Zhejiang", "CN")]
    assert [(m.kept, m.merged) for m in find_duplicates(sites)] == [(0, 1)]
