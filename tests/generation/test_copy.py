"""A design's Chinese copy: written from the spec with the taxonomy's words, in product-title order."""

import re

import pytest

from generation.concepts.composer import ConceptComposer
from generation.concepts.spec import DesignSpec
from generation.language import describe_zh
from generation.taxonomy import AttributeAddition, extended, load_taxonomy
from generation.trends.rising import TrendSignal

TX = load_taxonomy()
HOODIE = DesignSpec(category="hoodie", color="navy", material="cotton", pattern="stripe", silhouette="oversized",
                    details=("embroidery", "pocket"))


def test_known_answer_name_and_description():
    assert describe_zh(HOODIE, TX) == ("藏青色条纹纯棉宽松卫衣", "藏青色纯棉卫衣，宽松版型，条纹图案，细节：刺绣、口袋。")


@pytest.mark.parametrize(("spec", "name", "description"), [
    (DesignSpec(category="socks", color="white", material="bamboo-fiber", silhouette="crew"),  # solid: no pattern
     "白色竹纤维中筒袜子", "白色竹纤维袜子，中筒款。"),
    (DesignSpec(category="phone-case", color="black", material="tpu", silhouette="slim-case"),  # 薄款壳 + 手机壳
     "黑色TPU薄款手机壳", "黑色TPU手机壳，薄款。"),
    (DesignSpec(category="dress", color="lavender", material="silk", pattern="floral", silhouette="maxi"),
     "薰衣草紫碎花真丝长款连衣裙", "薰衣草紫真丝连衣裙，长款，碎花图案。"),
    (DesignSpec(category="tote-bag", color="khaki", material="canvas", details=("zip",)),
     "卡其色帆布托特包", "卡其色帆布托特包，细节：拉链。"),
])
def test_the_rules_for_colour_pattern_silhouette_and_details(spec, name, description):
    assert describe_zh(spec, TX) == (name, description)


def test_one_character_words_are_made_whole():
    tx = extended(TX, [AttributeAddition("color", "scarlet", zh="红", rgb="#ff2400"),
                       AttributeAddition("material", "hemp", zh="麻")])
    name, _ = describe_zh(DesignSpec(category="t-shirt", color="scarlet", material="hemp"), tx)
    assert name == "红色纯麻T恤"


def test_composed_copy_holds_no_english_and_no_trend_figures():
    """Every composed design's Chinese copy: taxonomy words only (their own Latin letters, like T恤 or TPU,
    aside), no digits or percentages from the evidence, although the English description has them."""
    latin = {w for kind in TX.attributes.values() for a in kind.values() for w in re.findall(r"[A-Za-z]+", a.zh)}
    latin |= {w for c in TX.categories.values() for w in re.findall(r"[A-Za-z]+", c.zh)}
    signals = [TrendSignal(f"cn_all_{c}_color_{col}", 0.6, 0.3, 0.9, 1.0, "rising", "yoy")
               for c in TX.categories for col in TX.allowed("color", c)[:3]]
    specs = ConceptComposer(TX, signals).compose(30, seed=3)
    assert any("%" in s.description for s in specs)
    for s in specs:
        assert (s.name_zh, s.description_zh) == describe_zh(s, TX)
        for text in (s.name_zh, s.description_zh):
            assert not re.search(r"[0-9%]", text), text
            assert set(re.findall(r"[A-Za-z]+", text)) <= latin, text


def test_a_spec_without_chinese_copy_still_loads():
    old = {k: v for k, v in HOODIE.to_dict().items() if k not in ("name_zh", "description_zh")}
    assert DesignSpec.from_dict(old).name_zh == ""
