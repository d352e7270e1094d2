"""Interest, factory matching and allocation. Pure Python + numpy/scipy; no HTTP, no SQL, no settings."""

from matching.errors import (AllocationError, DataFileError, FactoryDataError, IndexInputError, IndexManifestError,
                             MatchingError, OrderDataError, UnknownIdError)
from matching.factories.capability import CapabilityIndex
from matching.factories.orders import Order, Vocabulary, check_orders, parse_orders_csv, read_orders_csv
from matching.factories.planner import MatchPlan, Need, plan_production, shortlist_size
from matching.factories.shortlist import CandidateRow, ScoreWeights
from matching.factories.constraints import Candidate, Requirement, candidates, check_factory
from matching.factories.registry import Factory, parse_factories_csv, read_factories_csv, write_factories_csv
from matching.factories.synthetic import make_factory_registry
from matching.demand import GLOBAL_PRIOR, Outcome, Posterior, Prior, decide_many, global_prior, neighbour_prior, posterior, prob_reach
from matching.embeddings import TextEmbedder
from matching.exposure import FEED_POOL, POLICIES, mean_scores, rank_feed
from matching.index import VectorIndex
from matching.interest import EVENT_KINDS, EVENT_WEIGHTS, InterestStats

__all__ = [
    "EVENT_KINDS", "EVENT_WEIGHTS", "AllocationError", "Candidate", "Factory", "FactoryDataError",
    "GLOBAL_PRIOR", "InterestStats", "MatchingError", "Outcome", "POLICIES", "Posterior", "Prior", "Requirement",
    "TextEmbedder", "candidates", "check_factory", "decide_many", "global_prior", "make_factory_registry",
    "neighbour_prior", "parse_factories_csv", "posterior", "prob_reach", "rank_feed", "read_factories_csv",
    "write_factories_csv", "VectorIndex", "IndexInputError", "IndexManifestError", "UnknownIdError",
    "CandidateRow", "CapabilityIndex", "DataFileError", "MatchPlan", "Need", "Order", "OrderDataError", "ScoreWeights",
    "Vocabulary", "check_orders", "parse_orders_csv", "plan_production", "read_orders_csv", "shortlist_size",
    "FEED_POOL", "mean_scores",
]
