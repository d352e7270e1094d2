"""Trend engine: ingest (wide/long CSV, social posts), forecast, rising/fading, what goes together."""

from generation.trends.chart import plot_movers, top_movers
from generation.trends.cooccur import Compatibility, Pair, post_pairs, series_pairs
from generation.trends.forecast import Forecast, forecast_frame, growth_interval
from generation.trends.frame import SeriesName, TrendFrame, parse_series_name
from generation.trends.io import (parse_long_csv, parse_trend_csv, parse_wide_csv, read_trend_csv, read_wide_csv,
                                  write_wide_csv)
from generation.trends.mapping import EmbeddingMapper, PostMatch, match_post
from generation.trends.posts import Post, PostSeries, map_posts, parse_posts_jsonl, posts_to_series, read_posts_jsonl
from generation.trends.rising import TrendSignal, explain, rank_forecast, rank_rising

__all__ = [
    "Compatibility", "EmbeddingMapper", "Forecast", "Pair", "Post", "PostMatch", "PostSeries",
    "SeriesName", "TrendFrame", "TrendSignal", "explain", "forecast_frame", "growth_interval", "map_posts", "match_post",
    "parse_long_csv", "parse_posts_jsonl", "parse_series_name", "parse_trend_csv", "parse_wide_csv", "plot_movers",
    "post_pairs", "posts_to_series", "rank_forecast", "rank_rising", "read_posts_jsonl", "read_trend_csv",
    "read_wide_csv", "series_pairs", "top_movers", "write_wide_csv",
]
