"""Product language: EN/ZH product text -> the taxonomy's category and attributes (names or nothing).

Everything that enters as text (titles, posts, queries, series names, suppliers' product types) is read
here; nothing else parses product text by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generation.language.copy import describe_zh
    from generation.language.extract import Extraction, Mention, ProductLanguage
    from generation.language.series import SeriesMapping, map_series_name

__all__ = ["Extraction", "Mention", "ProductLanguage", "SeriesMapping", "describe_zh", "map_series_name"]

_WHERE = {"Extraction": "extract", "Mention": "extract", "ProductLanguage": "extract",
          "SeriesMapping": "series", "map_series_name": "series", "describe_zh": "copy"}


def __getattr__(name: str) -> Any:  # PEP 562: jieba loads only when the reader is first used
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"generation.language.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
