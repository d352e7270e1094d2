"""trends -> design specs -> images. Pure Python + numpy/torch; no HTTP, no SQL, no settings."""

from generation.concepts.composer import ConceptComposer, Pins, describe
from generation.concepts.pricing import buyer_moq, price_tiers
from generation.concepts.spec import DesignSpec, Evidence, PriceTier
from generation.errors import GenerationError, TaxonomyError, TrendDataError
from generation.images.base import FlatSketchGenerator, ImageGenerator
from generation.images.flat import product_mask, render_flat
from generation.taxonomy import ATTRIBUTE_KINDS, Attribute, Category, Taxonomy, load_taxonomy
from generation.trends.frame import SeriesName, TrendFrame, parse_series_name
from generation.trends.io import parse_wide_csv, read_wide_csv, write_wide_csv
from generation.trends.rising import TrendSignal, rank_rising
from generation.trends.synthetic import TrendSample, make_social_posts, make_trend_sample

__all__ = [
    "ATTRIBUTE_KINDS", "Attribute", "Category", "ConceptComposer", "DesignSpec", "Evidence",
    "FlatSketchGenerator", "GenerationError", "ImageGenerator", "Pins", "PriceTier", "SeriesName",
    "Taxonomy", "TaxonomyError", "TrendDataError", "TrendFrame", "TrendSample", "TrendSignal", "buyer_moq",
    "describe", "load_taxonomy", "make_social_posts", "make_trend_sample", "parse_series_name",
    "parse_wide_csv", "price_tiers", "product_mask", "rank_rising", "read_wide_csv", "render_flat",
    "write_wide_csv",
]
