"""The pages' languages: both catalogues have the same keys and fields, the templates hold no
untranslated text, every key the code uses exists, and the language a request gets."""

import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.models import DESIGN_STATUSES, LANGUAGES, ORDER_STATUSES, PREORDER_STATUSES, ROLES
from app.web import i18n
from app.web.i18n import Translator, catalogue, from_accept_language, negotiate
from generation.taxonomy import ATTRIBUTE_KINDS, load_taxonomy
from generation.trends.rising import TrendSignal

WEB = Path(i18n.__file__).parent
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
LETTER = re.compile(r"[^\W\d_]")
TEXT_ATTRIBUTES = ("placeholder", "title", "alt", "aria-label", "label")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_page_languages_are_the_account_languages():
    assert i18n.LANGUAGES == LANGUAGES


def test_every_language_has_the_same_keys_and_fields_and_no_empty_message():
    en = catalogue("en")
    for lang in i18n.LANGUAGES:
        other = catalogue(lang)
        assert set(other) == set(en), f"{lang}: keys differ: {sorted(set(other) ^ set(en))}"
        for key, text in other.items():
            assert text.strip(), f"{lang}: {key} is empty"
            assert _fields(text) == _fields(en[key]), f"{lang}: {key} has other fields than English"


def test_chinese_messages_are_translated():
    en, zh = catalogue("en"), catalogue("zh-CN")
    same = sorted(k for k in en if en[k] == zh[k] and LETTER.search(en[k]))
    assert same == ["app.name", "lang.en", "lang.zh-CN"]  # the product name and the language names
    assert all(re.search(r"[\u4e00-\u9fff]", zh[k]) for k in zh if k not in same and LETTER.search(zh[k]))


class _Literals(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_data(self, data: str) -> None:
        if LETTER.search(data):
            self.found.append(data.strip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            shown_value = name == "value" and tag == "input" and dict(attrs).get("type") in ("submit", "button")
            is_text = name in TEXT_ATTRIBUTES or shown_value
            if is_text and value and LETTER.search(value):
                self.found.append(f"{tag}[{name}]={value}")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(WEB / "templates")))
def test_templates_hold_no_untranslated_text(template):
    parser = _Literals()
    parser.feed(JINJA.sub("", template.read_text(encoding="utf-8")))
    assert parser.found == []


def test_the_literal_text_check_finds_literal_text():
    parser = _Literals()
    parser.feed(JINJA.sub("", '<p>{{ t("x") }}</p><button title="Save" value="en">{{ t("y") }}</button><h1>Hello</h1>'
                             '<input type="submit" value="Go">'))
    assert parser.found == ["button[title]=Save", "Hello", "input[value]=Go"]


def test_every_key_the_pages_use_exists():
    keys = set(catalogue("en"))
    used = set()
    for path in TEMPLATES + sorted(WEB.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([\w.-]+)["']""", text))
        used |= set(re.findall(r"""\b(?:ok|error)=["']([\w.-]+)["']""", text))
        used |= set(re.findall(r"""["'](flash\.[\w]+)["']""", text))
    used = {k for k in used if not k.endswith(".")}  # `t("status." ~ s)`: the dynamic keys are listed below
    assert used and used - keys == set()
    taxonomy = load_taxonomy()
    dynamic = ([f"status.{s}" for s in DESIGN_STATUSES] + [f"order_status.{s}" for s in ORDER_STATUSES]
               + [f"preorder_status.{s}" for s in PREORDER_STATUSES] + [f"role.{r}" for r in ROLES]
               + [f"kind.{k}" for k in ATTRIBUTE_KINDS] + [f"lang.{lang}" for lang in LANGUAGES]
               + [f"direction.{d}" for d in ("rising", "fading", "flat")]
               + [f"process.{p}" for p in taxonomy.processes]
               + [f"why.{m}" for m in ("forecast", "yoy", "short-history", "all-zero")])
    assert set(dynamic) - keys == set()


def test_every_shipped_taxonomy_name_has_a_chinese_name():
    taxonomy = load_taxonomy()
    t = Translator("zh-CN", taxonomy)
    assert t.category("dress") == "连衣裙" and t.attribute("color", "black") == "黑色"
    for c in taxonomy.categories.values():
        assert c.zh and t.category(c.name) == c.zh
    for kind, names in taxonomy.attributes.items():
        for a in names.values():
            assert a.zh and t.attribute(kind, a.name) == a.zh, (kind, a.name)
    assert Translator("en", taxonomy).attribute("color", "sage-green") == "sage green"


def test_signal_reasons_and_series_are_translated():
    taxonomy = load_taxonomy()
    sig = TrendSignal("cn_all_dress_color_black", 0.5, 0.3, 0.7, 1.0, "rising", "forecast")
    assert Translator("en", taxonomy).why(sig).startswith("+65% forecast for the next 26 weeks")
    assert Translator("zh-CN", taxonomy).why(sig) == "未来 26 周预测比去年同期 +65%（95% 区间 +35% 至 +101%）"
    assert Translator("zh-CN", taxonomy).series("cn_all_dress_color_black") == "连衣裙 · 颜色: 黑色 (cn)"


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("de-DE,zh;q=0.5", "zh-CN"),
    ("en;q=0.3, zh-Hans-CN;q=0.7", "zh-CN"),
    ("zh-TW", None),  # traditional Chinese is not what the pages are written in
    ("fr, de", None),
    ("zh;q=0, en;q=0.1", "en"),
    ("", None),
    ("en;q=bogus", None),
])
def test_accept_language(header, expected):
    assert from_accept_language(header) == expected


def test_the_users_pick_beats_the_browser_and_english_is_the_default():
    assert negotiate("en", "zh-CN") == "en"
    assert negotiate("zh-CN", "en") == "zh-CN"
    assert negotiate(None, "zh") == "zh-CN"
    assert negotiate("xx", "fr") == "en"


def test_a_designs_attributes_are_named_in_chinese():
    t = Translator("zh-CN", load_taxonomy())
    spec = {"category": "cushion-cover", "color": "lavender", "material": "organic-cotton", "pattern": "solid",
            "silhouette": "square"}
    assert t.spec_title(spec) == "薰衣草紫 有机棉 方形 抱枕套"
    assert t.spec_title({**spec, "pattern": "stripe", "silhouette": None}) == "薰衣草紫 条纹 有机棉 抱枕套"
