"""Trend data in the database: all-or-nothing import (wide/long CSV, posts), and the rising/fading analysis.

Signals are forward-looking (`rank_forecast`): each series is forecast and its next 26 weeks are
compared with the same weeks a year earlier, with the interval from the forecast's backtest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

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


def load_frame(session: Session) -> TrendFrame | None:
    """Every stored series on one consecutive weekly calendar (weeks a series lacks as 0), or None."""
    series = list(session.scalars(select(TrendSeries).order_by(TrendSeries.id)))
    if not series:
        return None
    stored = sorted(session.scalars(select(TrendPoint.week).distinct()))
    # one consecutive weekly calendar from the first to the last stored week (imports are aligned
    # to one weekday by `_check_calendar`), so the forecaster never sees a silent gap
    weeks = [stored[0] + timedelta(weeks=i) for i in range((stored[-1] - stored[0]).days // 7 + 1)] if stored else []
    week_idx = {w: i for i, w in enumerate(weeks)}
    col = {s.id: j for j, s in enumerate(series)}
    values = np.zeros((len(weeks), len(series)))
    for sid, week, value in session.execute(select(TrendPoint.series_id, TrendPoint.week, TrendPoint.value)):
        values[week_idx[week], col[sid]] = value
    return TrendFrame(tuple(weeks), tuple(s.name for s in series), values)


def refresh_signals(session: Session) -> int:
    """Recompute the rising/fading signal of every series; returns how many were written."""
    frame = load_frame(session)
    session.execute(delete(TrendSignalRow))
    if frame is None:
        return 0
    ids = dict(session.execute(select(TrendSeries.name, TrendSeries.id)).all())
    rows = [
        {"series_id": ids[g.series], "growth": g.growth, "lo": g.lo, "hi": g.hi, "recent_mean": g.recent_mean,
         "direction": g.direction, "method": g.method, "computed_at": utcnow()}
        for g in rank_forecast(frame, window=SIGNAL_WINDOW)
    ]
    session.execute(insert(TrendSignalRow), rows)
    return len(rows)


def signals(session: Session, *, category: str | None = None, direction: str | None = None,
            limit: int | None = None) -> list[tuple[TrendSeries, TrendSignal]]:
    """Stored signals with their series, surest risers first."""
    q = select(TrendSeries, TrendSignalRow).join(TrendSignalRow, TrendSignalRow.series_id == TrendSeries.id)
    if category is not None:
        q = q.where(TrendSeries.category == category)
    if direction is not None:
        q = q.where(TrendSignalRow.direction == direction)
    out = []
    for s, g in session.execute(q):
        sig = TrendSignal(s.name, g.growth, g.lo, g.hi, g.recent_mean, g.direction, g.method)
        out.append((s, TrendSignal(*_fields(sig), why=explain(sig, window=SIGNAL_WINDOW))))
    out.sort(key=lambda p: (p[1].confidence, p[1].growth), reverse=True)
    return out[:limit] if limit is not None else out


def _fields(g: TrendSignal) -> tuple[str, float, float, float, float, str, str]:
    return (g.series, g.growth, g.lo, g.hi, g.recent_mean, g.direction, g.method)


def pairs(session: Session, *, category: str | None = None) -> list[Pair]:
    """Attribute pairs whose stored series move together (or against each other), strongest first."""
    frame = load_frame(session)
    if frame is None:
        return []
    found = series_pairs(frame)
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
