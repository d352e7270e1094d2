"""Errors raised by the generation package. `app` maps them to HTTP status codes in one place."""

from __future__ import annotations


class GenerationError(Exception):
    """Base class for every error the generation package raises on purpose."""


class TaxonomyError(GenerationError):
    """A category or attribute is not in the taxonomy (the message lists the allowed values)."""


class TrendDataError(GenerationError):
    """A trend file is malformed. Carries the file, the 1-based line and the reason."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{where}: {reason}")


class ImageModelError(GenerationError):
    """An image model cannot be loaded or run: missing or corrupt weights, a mismatched embedder."""
