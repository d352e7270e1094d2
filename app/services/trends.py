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

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from generation.errors import TaxonomyError, TrendDataError
from generation.taxonomy import Taxonomy
from generation.trends.cooccur import Compatibility, Pair, series_pairs
from generation.trends.frame import TrendFrame, parse_series_name
from generation.trends.rising import TrendSignal, explain, rank_forecast

SIGNAL_WINDOW = 26  # weeks of forecast compared with the same weeks a year earlier

from app.models import TrendPoint, TrendSeries, TrendSignalRow, utcnow


@dataclass(frozen=True)
class IngestResult:
    series: int
    points: int
    replaced: int  # series that already existed and whose values were replaced


def ingest_frame(session: Session, frame: TrendFrame, taxonomy: Taxonomy, *, source: str) -> IngestResult:
    """Store every series of `frame` (replacing series of the same name) and refresh the signals.

    Every series name is checked before anything is written; the caller's transaction makes the
    import all or nothing.
    """
    parsed = []
    for col, name in enumerate(frame.names, start=2):
        try:
            parsed.append(parse_series_name(name, taxonomy))
        except TaxonomyError as exc:
            raise TrendDataError(source, 1, f"column {col}: {exc}") from None
    existing = {s.name: s for s in session.scalars(select(TrendSeries).where(TrendSeries.name.in_(frame.names)))}
    if existing:
        session.execute(delete(TrendPoint).where(TrendPoint.series_id.in_([s.id for s in existing.values()])))
    ids = []
    for name, sn in zip(frame.names, parsed):
        row = existing.get(name)
        if row is None:
            row = TrendSeries(name=name, region=sn.region, segment=sn.segment, category=sn.category,
                              kind=sn.kind, attribute=sn.attribute, source=source)
            session.add(row)
        else:
            row.source, row.imported_at = source, utcnow()
        ids.append(row)
    session.flush()
    points = [
        {"series_id": row.id, "week": week, "value": float(v)}
        for s, row in enumerate(ids)
        for week, v in zip(frame.weeks, frame.values[:, s])
    ]
    session.execute(insert(TrendPoint), points)
    _check_calendar(session, source)
    refresh_signals(session)
    return IngestResult(len(ids), len(points), len(existing))


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
            limit: int | None = None) -> list[tuple[TrendSeries, TrendSignal]]:
    """Stored signals with their series, surest risers first; the `why` of a series whose data ends
    before the newest stored week says so."""
    q = select(TrendSeries, TrendSignalRow).join(TrendSignalRow, TrendSignalRow.series_id == TrendSeries.id)
    if category is not None:
        q = q.where(TrendSeries.category == category)
    if direction is not None:
        q = q.where(TrendSignalRow.direction == direction)
    ends = data_ends(session)
    out = []
    for s, g in session.execute(q):
        sig = TrendSignal(s.name, g.growth, g.lo, g.hi, g.recent_mean, g.direction, g.method)
        out.append((s, TrendSignal(*_fields(sig), why=explain(sig, window=SIGNAL_WINDOW) + ends_note(ends.get(s.name)))))
    out.sort(key=lambda p: (p[1].confidence, p[1].growth), reverse=True)
    return out[:limit] if limit is not None else out


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
