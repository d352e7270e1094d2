"""Trend data in the database: all-or-nothing import, and the rising/fading analysis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from generation.errors import TaxonomyError, TrendDataError
from generation.taxonomy import Taxonomy
from generation.trends.frame import TrendFrame, parse_series_name
from generation.trends.rising import TrendSignal, rank_rising

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
    refresh_signals(session)
    return IngestResult(len(ids), len(points), len(existing))


def load_frame(session: Session) -> TrendFrame | None:
    """Every stored series on one weekly calendar (missing weeks as 0), or None if there are none."""
    series = list(session.scalars(select(TrendSeries).order_by(TrendSeries.id)))
    if not series:
        return None
    weeks = sorted(session.scalars(select(TrendPoint.week).distinct()))
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
        for g in rank_rising(frame)
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
    out = [
        (s, TrendSignal(s.name, g.growth, g.lo, g.hi, g.recent_mean, g.direction, g.method))
        for s, g in session.execute(q)
    ]
    out.sort(key=lambda p: (p[1].confidence, p[1].growth), reverse=True)
    return out[:limit] if limit is not None else out


def counts(session: Session) -> dict[str, int]:
    return {
        "series": session.scalar(select(func.count()).select_from(TrendSeries)) or 0,
        "points": session.scalar(select(func.count()).select_from(TrendPoint)) or 0,
        **dict(session.execute(select(TrendSignalRow.direction, func.count()).group_by(TrendSignalRow.direction)).all()),
    }
