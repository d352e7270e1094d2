"""Errors raised by the matching package. `app` maps them to HTTP status codes in one place."""

from __future__ import annotations


class MatchingError(Exception):
    """Base class for every error the matching package raises on purpose."""


class DataFileError(MatchingError):
    """An input file (or list of records) is malformed. Carries the file, the 1-based line and the reason."""

    def __init__(self, file: str, line: int | None, reason: str, *, unit: str = "line") -> None:
        self.file, self.line, self.reason = file, line, reason
        where = f"{file}, {unit} {line}" if line is not None else file
        super().__init__(f"{where}: {reason}")


class FactoryDataError(DataFileError):
    """A factory registry file is malformed."""


class OrderDataError(DataFileError):
    """A production orders file (or the same orders as JSON) is malformed: unknown category, material or
    process (the message lists the known ones), a bad quantity, a repeated design id."""


class AllocationError(MatchingError):
    """An allocation problem is malformed (e.g. a non-positive quantity)."""


class IndexInputError(MatchingError, ValueError):
    """Vectors, ids or a search request given to `VectorIndex` are malformed (shape, values, k)."""


class UnknownIdError(MatchingError, KeyError):
    """An id asked of `VectorIndex` (to update or read back) is not in the index."""

    def __str__(self) -> str:  # KeyError would quote the message; show it as written.
        return str(self.args[0]) if self.args else ""


class IndexManifestError(MatchingError):
    """A saved index cannot be loaded: a file is missing or its manifest disagrees with the embedder or itself."""
