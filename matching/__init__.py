"""Interest, factory matching and allocation. Pure Python + numpy/scipy; no HTTP, no SQL, no settings."""

from matching.allocate import Assignment, Offer, allocate
from matching.errors import AllocationError, FactoryDataError, MatchingError
from matching.factories.constraints import Candidate, Requirement, candidates, check_factory
from matching.factories.registry import Factory, parse_factories_csv, read_factories_csv, write_factories_csv
from matching.factories.synthetic import make_factory_registry
from matching.interest import EVENT_KINDS, EVENT_WEIGHTS, InterestStats, decide, thompson_order

__all__ = [
    "EVENT_KINDS", "EVENT_WEIGHTS", "AllocationError", "Assignment", "Candidate", "Factory", "FactoryDataError",
    "InterestStats", "MatchingError", "Offer", "Requirement", "allocate", "candidates", "check_factory", "decide",
    "make_factory_registry", "parse_factories_csv", "read_factories_csv", "thompson_order", "write_factories_csv",
]
