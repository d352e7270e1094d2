"""Trend data in the database: all-or-nothing import (wide/long CSV, posts), and the rising/fading analysis.

Signals are forward-looking (`rank_forecast`): each series is forecast and its next 26 weeks are
compared with the same weeks a year earlier, with the interval from the forecast's backtest.

Each series is analysed over the weeks it has, never over weeks invented for it. Stored series may
cover different weeks: an import replaces only the series it names (so after 8 more weeks of one
file the others end 8 weeks earlier), and series built from posts cover only the weeks of those
posts. Putting them on one calendar would need a value for the weeks a series lacks, and any value
is a claim: 0 makes a series that simply was not updated "fading -90%", and a posts series that
starts late "rising" out of a zero history. So `load_frames` gives one frame per span (first to last
stored week); the forecast of a series that ends early starts after its own last week, and its
`why` says on which date its data ends. A 0 that was imported is a real 0 and counts as such
(`forecast.py` cannot tell a missing week from a 0: both enter its log(y + c) as the lowest level).
Intervals come from the backtest errors pooled over the series of one frame, so a series alone in
its span gets an interval from its own backtest.
Chosen over "exclude stale series" or "cut every series to the common weeks" because it needs no
new signal kind and no schema change, keeps every series ranked, and throws no history away;
pairs are likewise judged only between series of the same span (`pairs`), and the web chart draws
each series over its own span (`app/web/trend_chart.py`). Where a series' data ends before the newest
stored week is data (`data_ends`), so each language can say it in its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from generation.errors import TaxonomyError, TrendDataError
from generation.language.extract import ProductLanguage
from generation.language.series import SeriesMapping, map_series_name
from generation.taxonomy import Taxonomy
from generation.trends.cooccur import Compatibility, Pair, series_pairs
from generation.trends.frame import TrendFrame, parse_series_name
from generation.trends.mapping import Embed
from generation.trends.rising import TrendSignal, explain, rank_forecast

from app.errors import Invalid
from app.models import SeriesMappingRow, TrendPoint, TrendSeries, TrendSignalRow, utcnow

SIGNAL_WINDOW = 26  # weeks of forecast compared with the same weeks a year earlier


@dataclass(frozen=True)
class IngestResult:
    series: int
    points: int
    replaced: int  # series that already existed and whose values were replaced
    unmapped: tuple[str, ...] = ()  # series stored whose name says nothing we know: listed, never refused


def map_names(session: Session, names: Sequence[str], taxonomy: Taxonomy,
              language: ProductLanguage | None = None, embed: Embed | None = None) -> list[SeriesMapping]:
    """What each series name means: the merchandiser's stored correction if there is one, else the
    language module's reading (`generation.language.series`; `language` is built on `taxonomy` when a
    name needs it and none is given), else, with `embed`, the nearest taxonomy word by MiniLM."""
    manual = {r.series: r for r in session.scalars(select(SeriesMappingRow).where(SeriesMappingRow.series.in_(names)))}
    out = []
    for name in names:
        row = manual.get(name)
        if row is not None:
            out.append(SeriesMapping(name, row.kind, row.attribute, row.category, "manual"))
            continue
        try:
            sn = parse_series_name(name, taxonomy)
            out.append(SeriesMapping(name, sn.kind, sn.attribute, sn.category, "convention", sn.region, sn.segment))
        except TaxonomyError:
            language = language if language is not None else ProductLanguage(taxonomy)
            out.append(map_series_name(name, taxonomy, language, embed=embed))
    return out


def ingest_frame(session: Session, frame: TrendFrame, taxonomy: Taxonomy, *, source: str,
                 language: ProductLanguage | None = None, embed: Embed | None = None) -> IngestResult:
    """Store every series of `frame` (replacing series of the same name) and refresh the signals.

    Each name is mapped (`map_names`); one that maps to nothing is stored all the same and listed in the
    result. The caller's transaction makes the import all or nothing."""
    mapped = map_names(session, frame.names, taxonomy, language, embed)
    existing = {s.name: s for s in session.scalars(select(TrendSeries).where(TrendSeries.name.in_(frame.names)))}
    if existing:
        session.execute(delete(TrendPoint).where(TrendPoint.series_id.in_([s.id for s in existing.values()])))
    ids = []
    for m in mapped:
        row = existing.get(m.series)
        if row is None:
            row = TrendSeries(name=m.series, source=source)
            session.add(row)
        row.source, row.imported_at = source, utcnow()
        _set_mapping(row, m)
        ids.append(row)
    session.flush()
    points = _insert_points(session, [row.id for row in ids], frame)
    _check_calendar(session, source)
    refresh_signals(session)
    return IngestResult(len(ids), points, len(existing), tuple(m.series for m in mapped if not m.mapped))


def _insert_points(session: Session, series_ids: list[int], frame: TrendFrame) -> int:
    """Store every value of `frame` (column s under `series_ids[s]`); how many. One executemany through
    the driver: SQLAlchemy's per-row parameter handling took most of an upload's time (4 of 11 s for the
    sample's 122,000 values on a busy machine). Dates are stored as SQLAlchemy stores them on SQLite
    (ISO text)."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    weeks: list[object] = [w.isoformat() for w in frame.weeks] if sqlite else list(frame.weeks)
    rows = [(sid, w, v) for sid, values in zip(series_ids, frame.values.T.tolist()) for w, v in zip(weeks, values)]
    mark = "?" if sqlite else "%s"
    conn.exec_driver_sql(f"INSERT INTO trend_points (series_id, week, value) VALUES ({mark}, {mark}, {mark})", rows)
    return len(rows)


def _set_mapping(row: TrendSeries, m: SeriesMapping) -> None:
    row.kind, row.attribute, row.category, row.how = m.kind, m.attribute, m.category, m.how
    row.region, row.segment = m.region, m.segment


def mappings(session: Session) -> list[SeriesMapping]:
    """Every stored series and what it is taken to measure, unmapped ones first, then by name."""
    rows = session.scalars(select(TrendSeries).order_by(TrendSeries.name)).all()
    out = [SeriesMapping(r.name, r.kind, r.attribute, r.category, r.how, r.region, r.segment) for r in rows]
    return sorted(out, key=lambda m: (m.mapped, m.series))


def correct_mapping(session: Session, taxonomy: Taxonomy, *, series: str, kind: str | None, attribute: str | None,
                    category: str | None) -> SeriesMapping:
    """The merchandiser says what `series` measures (kind None: nothing we make); kept for every later
    import of that name, and applied now to the stored series if there is one. Invalid if the kind,
    attribute or category is unknown or the attribute does not apply to the category."""
    if not series.strip() or len(series) > 200:
        raise Invalid("series: a series name of 1 to 200 characters")
    if kind is None:
        if attribute is not None or category is not None:
            raise Invalid("a series about nothing we make has no attribute or category")
    else:
        if attribute is None:
            raise Invalid(f"attribute: which {kind} the series measures")
        try:
            taxonomy.attribute(kind, attribute, category)
        except TaxonomyError as exc:
            raise Invalid(str(exc)) from None
    row = session.get(SeriesMappingRow, series)
    if row is None:
        row = SeriesMappingRow(series=series)
        session.add(row)
    row.kind, row.attribute, row.category = kind, attribute, category
    mapping = SeriesMapping(series, kind, attribute, category, "manual")
    stored = session.scalars(select(TrendSeries).where(TrendSeries.name == series)).one_or_none()
    if stored is not None:
        _set_mapping(stored, mapping)
    return mapping


def remap(session: Session, taxonomy: Taxonomy, language: ProductLanguage) -> int:
    """Read again the stored series the language module mapped, or could not (not the corrected ones nor
    those in trendloom's convention), e.g. after an attribute was added; returns how many changed."""
    changed = 0
    rows = session.scalars(select(TrendSeries).where(TrendSeries.how.in_(("lexicon", "embedding", "unmapped")))).all()
    for row, m in zip(rows, map_names(session, [r.name for r in rows], taxonomy, language)):
        if (row.kind, row.attribute, row.category, row.how) != (m.kind, m.attribute, m.category, m.how):
            _set_mapping(row, m)
            changed += 1
    return changed


def _check_calendar(session: Session, source: str) -> None:
    """Stored weeks must stay 7 days apart: a file on another weekday would interleave its weeks."""
    weeks = sorted(session.scalars(select(TrendPoint.week).distinct()))
    for a, b in zip(weeks, weeks[1:]):
        if (b - a).days % 7:
            raise TrendDataError(source, None, f"its weeks do not line up with the stored weeks ({a} and {b} are "
                                 f"{(b - a).days} days apart); use the same weekday as the data already imported")


def _weeks(first: date, last: date) -> list[date]:
    """Every week from `first` to `last` (imports are aligned to one weekday by `_check_calendar`)."""
    return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def _spans(session: Session) -> dict[int, tuple[date, date]]:
    """series id -> (first, last) stored week, for every series with points."""
    q = select(TrendPoint.series_id, func.min(TrendPoint.week), func.max(TrendPoint.week)).group_by(TrendPoint.series_id)
    return {sid: (first, last) for sid, first, last in session.execute(q)}


def load_frames(session: Session) -> list[TrendFrame]:
    """The stored series grouped by span: one frame per (first, last) stored week, each covering only
    those weeks, so no series gets a value it was not given (module docstring says why).

    Series of one import share a span, so usually this is one frame. TrendDataError if a series
    lacks a week inside its own span (imports are consecutive weeks, so the store is damaged)."""
    names = dict(session.execute(select(TrendSeries.id, TrendSeries.name)).all())
    groups: dict[tuple[date, date], list[int]] = {}
    for sid, span in sorted(_spans(session).items()):
        groups.setdefault(span, []).append(sid)
    where = {sid: (span, j) for span, sids in groups.items() for j, sid in enumerate(sids)}
    arrays = {span: np.full(((span[1] - span[0]).days // 7 + 1, len(sids)), np.nan) for span, sids in groups.items()}
    for sid, week, value in session.execute(select(TrendPoint.series_id, TrendPoint.week, TrendPoint.value)):
        span, j = where[sid]
        arrays[span][(week - span[0]).days // 7, j] = value
    frames = []
    for span, sids in sorted(groups.items()):
        values = arrays[span]
        gaps = np.flatnonzero(np.isnan(values).any(axis=0))
        if gaps.size:
            raise TrendDataError("workspace", None, f"series {names[sids[gaps[0]]]!r} lacks stored weeks between "
                                 f"{span[0]} and {span[1]}; import it again")
        frames.append(TrendFrame(tuple(_weeks(*span)), tuple(names[sid] for sid in sids), values))
    return frames


def refresh_signals(session: Session) -> int:
    """Recompute the rising/fading signal of every series, each on its own weeks (`load_frames`);
    returns how many were written."""
    session.execute(delete(TrendSignalRow))
    ids = dict(session.execute(select(TrendSeries.name, TrendSeries.id)).all())
    rows = [
        {"series_id": ids[g.series], "growth": g.growth, "lo": g.lo, "hi": g.hi, "recent_mean": g.recent_mean,
         "direction": g.direction, "method": g.method, "computed_at": utcnow()}
        for frame in load_frames(session)
        for g in rank_forecast(frame, window=SIGNAL_WINDOW)
    ]
    if rows:
        session.execute(insert(TrendSignalRow), rows)
    return len(rows)


def signals(session: Session, *, category: str | None = None, direction: str | None = None,
            limit: int | None = None, taxonomy: Taxonomy | None = None) -> list[tuple[TrendSeries, TrendSignal]]:
    """Stored signals with their series, surest risers first; the `why` of a series whose data ends
    before the newest stored week says so. With a `category`, the series of that category and, given
    the `taxonomy`, those without a category whose attribute applies to it (a free-named "fabric_linen"
    speaks for every category made of linen)."""
    q = select(TrendSeries, TrendSignalRow).join(TrendSignalRow, TrendSignalRow.series_id == TrendSeries.id)
    if category is not None:
        q = q.where(TrendSeries.category == category if taxonomy is None else
                    or_(TrendSeries.category == category,
                        and_(TrendSeries.category.is_(None), TrendSeries.kind.is_not(None))))
    if direction is not None:
        q = q.where(TrendSignalRow.direction == direction)
    ends = data_ends(session)
    out = []
    for s, g in session.execute(q):
        if category is not None and taxonomy is not None and s.category is None and not _applies(taxonomy, s, category):
            continue
        sig = TrendSignal(s.name, g.growth, g.lo, g.hi, g.recent_mean, g.direction, g.method)
        out.append((s, TrendSignal(*_fields(sig), why=explain(sig, window=SIGNAL_WINDOW) + ends_note(ends.get(s.name)))))
    out.sort(key=lambda p: (p[1].confidence, p[1].growth), reverse=True)
    return out[:limit] if limit is not None else out


def _applies(taxonomy: Taxonomy, series: TrendSeries, category: str) -> bool:
    by_name = taxonomy.attributes.get(series.kind or "", {})
    return series.attribute in by_name and by_name[series.attribute].applies_to(category)


@dataclass(frozen=True)
class DataEnd:
    """Where the data of a series ends, for one that ends before the newest stored week: its forecast
    starts after its own last week, and whoever reads its signal must be told (module docstring)."""

    last: date  # the last stored week of the series
    newest: date  # the newest stored week of any series

    @property
    def weeks_behind(self) -> int:
        return (self.newest - self.last).days // 7


def data_ends(session: Session) -> dict[str, DataEnd]:
    """Series name -> where its data ends, for every series whose data ends before the newest stored week
    (the others are absent). The source of the "its data ends on" note of the API, CLI and web pages."""
    names = dict(session.execute(select(TrendSeries.id, TrendSeries.name)).all())
    spans = _spans(session)
    if not spans:
        return {}
    newest = max(last for _, last in spans.values())
    return {names[sid]: DataEnd(last, newest) for sid, (_, last) in spans.items() if last < newest}


def ends_note(end: DataEnd | None) -> str:
    """Nothing for a series that reaches the newest stored week, else on which date its data ends."""
    return "" if end is None else (f"; its data ends on {end.last}, {end.weeks_behind} week(s) before the newest "
                                   f"stored week ({end.newest}): the forecast starts after its own last week")


def _fields(g: TrendSignal) -> tuple[str, float, float, float, float, str, str]:
    return (g.series, g.growth, g.lo, g.hi, g.recent_mean, g.direction, g.method)


def pairs(session: Session, *, category: str | None = None) -> list[Pair]:
    """Attribute pairs whose stored series move together (or against each other), strongest first;
    only series of the same span are compared (`load_frames`), never over weeks one of them lacks."""
    found = sorted((p for frame in load_frames(session) for p in series_pairs(frame)), key=lambda p: p.score, reverse=True)
    return [p for p in found if category is None or p.category == category]


def compatibility(session: Session) -> Compatibility:
    """What the stored series say must not share a design (substitutes), for `ConceptComposer`."""
    return Compatibility(pairs(session))


def counts(session: Session) -> dict[str, int]:
    return {
        "series": session.scalar(select(func.count()).select_from(TrendSeries)) or 0,
        "points": session.scalar(select(func.count()).select_from(TrendPoint)) or 0,
        **dict(session.execute(select(TrendSignalRow.direction, func.count()).group_by(TrendSignalRow.direction)).all()),
    }
