"""Country names and codes as registries write them ("China", "CHINA", "CN", "Viet Nam", "USA") -> one
ISO 3166-1 alpha-2 code, so that de-duplication can block by country and lists show one spelling.

The table holds the countries that make consumer goods for export and the common other spellings of
their names; a name it does not know is kept as written (upper-cased), never guessed, so two rows that
spell an unknown country the same way still share a block.
"""

from __future__ import annotations

import functools
import re

_NAMES: dict[str, tuple[str, ...]] = {
    "AE": ("united arab emirates", "uae"), "AL": ("albania",), "AM": ("armenia",), "AR": ("argentina",),
    "AT": ("austria",), "AU": ("australia",), "AZ": ("azerbaijan",), "BA": ("bosnia and herzegovina", "bosnia"),
    "BD": ("bangladesh",), "BE": ("belgium",), "BG": ("bulgaria",), "BO": ("bolivia",), "BR": ("brazil", "brasil"),
    "BY": ("belarus",), "CA": ("canada",), "CH": ("switzerland",), "CL": ("chile",),
    "CN": ("china", "peoples republic of china", "people s republic of china", "prc", "mainland china", "p r china",
           "pr china", "中国"),
    "CO": ("colombia",), "CR": ("costa rica",), "CZ": ("czech republic", "czechia"), "DE": ("germany", "deutschland"),
    "DK": ("denmark",), "DO": ("dominican republic",), "DZ": ("algeria",), "EC": ("ecuador",), "EE": ("estonia",),
    "EG": ("egypt",), "ES": ("spain",), "ET": ("ethiopia",), "FI": ("finland",), "FR": ("france",),
    "GB": ("united kingdom", "uk", "great britain", "england", "scotland", "wales"), "GE": ("georgia",),
    "GH": ("ghana",), "GR": ("greece",), "GT": ("guatemala",), "HK": ("hong kong", "hong kong sar", "香港"),
    "HN": ("honduras",), "HR": ("croatia",), "HT": ("haiti",), "HU": ("hungary",), "ID": ("indonesia",),
    "IE": ("ireland",), "IL": ("israel",), "IN": ("india",), "IT": ("italy", "italia"), "JO": ("jordan",),
    "JP": ("japan", "日本"), "KE": ("kenya",), "KH": ("cambodia",), "KR": ("south korea", "korea", "republic of korea",
                                                                     "korea republic of", "korea south"),
    "LA": ("laos", "lao pdr", "lao people s democratic republic"), "LK": ("sri lanka",), "LS": ("lesotho",),
    "LT": ("lithuania",), "LV": ("latvia",), "MA": ("morocco",), "MC": ("monaco",), "MD": ("moldova",),
    "MG": ("madagascar",), "MK": ("north macedonia", "macedonia"), "MM": ("myanmar", "burma"), "MO": ("macau", "macao"),
    "MU": ("mauritius",), "MX": ("mexico",), "MY": ("malaysia",), "NI": ("nicaragua",), "NL": ("netherlands", "holland"),
    "NO": ("norway",), "NP": ("nepal",), "NZ": ("new zealand",), "PE": ("peru",), "PH": ("philippines",),
    "PK": ("pakistan",), "PL": ("poland",), "PR": ("puerto rico",), "PT": ("portugal",), "PY": ("paraguay",),
    "RO": ("romania",), "RS": ("serbia",), "RU": ("russia", "russian federation"), "SA": ("saudi arabia",),
    "SE": ("sweden",), "SG": ("singapore",), "SI": ("slovenia",), "SK": ("slovakia", "slovak republic"),
    "SV": ("el salvador",), "SY": ("syria",), "TH": ("thailand",), "TN": ("tunisia",), "TR": ("turkey", "turkiye"),
    "TW": ("taiwan", "taiwan province of china", "chinese taipei", "台湾"), "TZ": ("tanzania",), "UA": ("ukraine",),
    "UG": ("uganda",), "US": ("united states", "usa", "united states of america", "u s a", "u s", "america"),
    "UY": ("uruguay",), "UZ": ("uzbekistan",), "VN": ("vietnam", "viet nam", "越南"), "ZA": ("south africa",),
    "ZW": ("zimbabwe",),
}
_CODE_OF: dict[str, str] = {name: code for code, names in _NAMES.items() for name in names}
_CODES = frozenset(_NAMES)


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


@functools.lru_cache(maxsize=4096)
def country_code(text: str) -> str:
    """The ISO alpha-2 code of a country as written ("China", "cn", "Viet Nam"), or the text upper-cased
    when the table does not know it ('' for an empty cell)."""
    key = _key(text)
    if key.upper() in _CODES:
        return key.upper()
    return _CODE_OF.get(key, " ".join(text.split()).upper())


def is_known(code: str) -> bool:
    """Whether `code` is one of the table's ISO codes."""
    return code in _CODES


def country_names(code: str) -> tuple[str, ...]:
    """The names the table knows for an ISO code, lower-case, and the code itself (lower-case)."""
    return (*_NAMES.get(code, ()), code.lower()) if code else ()
