"""What buyers ask for and cannot find: the purest demand signal a pre-order platform has (issue 18).

Every search with no or weak results, every inquiry and every variant request is read by the
product-language module into a *want*: a category and attributes. A search is weak when no design it
returned has everything the query named: a search for a navy corduroy hoodie answered only by other
hoodies is a want for navy corduroy hoodies. An inquiry or variant request on an item wants the item's
category with what the text names ("in navy?" on a hoodie: a navy hoodie).

A want is counted per distinct buyer (and per distinct buyer and week for its trend): a signal is stored
once per buyer, week, source and text, so a buyer who repeats a search moves a want by one at most, and a
flagged buyer (`app.services.abuse`) moves nothing. The texts stay as evidence. A text the module reads
nothing in is kept as unread evidence and listed as such, never guessed into a want; a product nobody
here makes ("jeans") is listed with the texts that asked for it."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from generation.concepts.spec import DesignSpec
from generation.language.extract import Extraction, ProductLanguage
from generation.taxonomy import Taxonomy
from matching.search import SearchDoc, SearchQuery

from app.db import insert_statement
from app.errors import Invalid
from app.lifecycle import BOOK_STATES
from app.models import Buyer, Design, WantSignal
from app.services import production

MAX_TEXT = 200  # characters of a text kept as evidence
VARIANT_KINDS = ("color", "material", "pattern")  # what a buyer can ask an item in
WEEKS = 8  # the window `wants` reads by default


@dataclass(frozen=True)
class Want:
    """One (category, attributes) buyers asked for and did not find, over the window."""

    category: str | None
    attributes: tuple[tuple[str, str], ...]  # (kind, name), sorted
    buyers: int  # distinct buyers
    weekly: tuple[int, ...]  # distinct buyers per week of the window, oldest first
    texts: tuple[str, ...]  # the words they used, most buyers first
    sources: dict[str, int] = field(default_factory=dict)  # distinct buyers per source

    def to_dict(self) -> dict[str, object]:
        """The `trendloom demand wants --json` line."""
        attributes: dict[str, object] = {k: n for k, n in self.attributes if k != "detail"}
        details = [n for k, n in self.attributes if k == "detail"]
        if details:
            attributes["details"] = details
        return {"category": self.category, "attributes": attributes, "buyers": self.buyers,
                "weekly": list(self.weekly), "texts": list(self.texts), "sources": self.sources}


@dataclass(frozen=True)
class Unread:
    """A text nothing could be read in (or that asks for a product nobody here makes)."""

    text: str
    buyers: int
    other: str | None  # the product it names that we do not make, if any


def unmakeable(want: Want, taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """The attributes of `want` the taxonomy does not offer on its category (corduroy is not a hoodie
    material until a merchandiser adds it): designing it needs that first."""
    if want.category is None:
        return []
    return [(k, n) for k, n in want.attributes
            if (a := taxonomy.attributes.get(k, {}).get(n)) is None or not a.applies_to(want.category)]


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def satisfies(category: str | None, attributes: Iterable[tuple[str, str]], doc: SearchDoc) -> bool:
    """Whether design `doc` has everything a buyer named."""
    return (category is None or doc.category == category) and set(attributes) <= doc.attributes


def record_search(session: Session, *, buyer_id: int, text: str, query: SearchQuery,
                  results: Sequence[SearchDoc], now: datetime) -> bool:
    """Record a buyer's search as a want unless a result has everything it named; True when recorded.

    A query that names nothing (no category, no attribute) counts only when it found nothing at all: a
    product nobody here makes, or unread evidence. One that named nothing but found designs by meaning
    says no want we could read."""
    attributes = tuple(sorted(query.attributes))
    if query.category is not None or attributes:
        if any(satisfies(query.category, attributes, d) for d in results):
            return False
    elif results:
        return False
    return _store(session, buyer_id=buyer_id, source="search", text=text, category=query.category,
                  attributes=attributes, other=query.unsold, design_id=None, now=now)


def record_request(session: Session, *, buyer_id: int, source: str, text: str, language: ProductLanguage,
                   design_id: int | None, design_category: str | None, now: datetime) -> Extraction:
    """Record an inquiry or variant request (`source`) about design `design_id` as a want: the category
    the text names, else the item's when the text names an attribute; what was read is returned."""
    found = language.extract(language.correct_spelling(" ".join(text.split())[:MAX_TEXT]))
    attributes = tuple(sorted(found.attributes()))
    category = found.category or (design_category if attributes else None)
    _store(session, buyer_id=buyer_id, source=source, text=text, category=category, attributes=attributes,
           other=found.other, design_id=design_id, now=now)
    return found


def _store(session: Session, *, buyer_id: int, source: str, text: str, category: str | None,
           attributes: tuple[tuple[str, str], ...], other: str | None, design_id: int | None,
           now: datetime) -> bool:
    text = " ".join(text.split())[:MAX_TEXT]
    if not text:
        return False
    row = {"buyer_id": buyer_id, "week": week_of(now.date()), "source": source, "text": text,
           "category": category, "attributes": [f"{k}:{n}" for k, n in attributes], "other": other,
           "design_id": design_id, "asked_at": now}
    stmt = insert_statement(session, WantSignal).values(**row).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg reports -1 rows for an INSERT ... ON CONFLICT
    return session.execute(stmt.returning(WantSignal.id)).first() is not None


def _signals(session: Session, today: date, weeks: int) -> list[WantSignal]:
    """The window's signals of buyers who are not flagged."""
    start = week_of(today) - timedelta(weeks=weeks - 1)
    return list(session.scalars(select(WantSignal).join(Buyer, Buyer.id == WantSignal.buyer_id)
                                .where(WantSignal.week >= start, Buyer.flagged_at.is_(None))
                                .order_by(WantSignal.id)))


def _attributes(s: WantSignal) -> tuple[tuple[str, str], ...]:
    """A signal's (kind, name) pairs, sorted (stored as "kind:name")."""
    return tuple(sorted((k, n) for k, _, n in (a.partition(":") for a in s.attributes)))


def _readable(s: WantSignal) -> bool:
    """A want we can design for: it names a category or an attribute, and no product we do not make."""
    return s.other is None and (s.category is not None or bool(s.attributes))


def wants(session: Session, today: date, *, weeks: int = WEEKS, limit: int = 20) -> list[Want]:
    """The top unmet wants of the last `weeks` weeks, most distinct buyers first."""
    start = week_of(today) - timedelta(weeks=weeks - 1)
    buyers: dict[tuple, set[int]] = defaultdict(set)
    weekly: dict[tuple, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    texts: dict[tuple, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    sources: dict[tuple, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for s in _signals(session, today, weeks):
        if not _readable(s):
            continue
        key = (s.category, _attributes(s))
        buyers[key].add(s.buyer_id)
        weekly[key][(s.week - start).days // 7].add(s.buyer_id)
        texts[key][s.text].add(s.buyer_id)
        sources[key][s.source].add(s.buyer_id)
    out = [Want(category=key[0], attributes=key[1], buyers=len(b),
                weekly=tuple(len(weekly[key].get(w, ())) for w in range(weeks)),
                texts=tuple(t for t, _ in sorted(texts[key].items(), key=lambda kv: (-len(kv[1]), kv[0])))[:10],
                sources={src: len(ids) for src, ids in sorted(sources[key].items())})
           for key, b in buyers.items()]
    out.sort(key=lambda w: (-w.buyers, -len(w.attributes), w.category or "", w.attributes))
    return out[:limit]


def askers(session: Session, spec: DesignSpec, today: date, *, weeks: int = WEEKS) -> list[int]:
    """The (unflagged) buyers of the window whose want design `spec` has everything of."""
    have = set(spec.attributes())
    return list(dict.fromkeys(
        s.buyer_id for s in _signals(session, today, weeks) if _readable(s) and s.category in (None, spec.category)
        and set(_attributes(s)) <= have))


def unread(session: Session, today: date, *, weeks: int = WEEKS, limit: int = 20) -> list[Unread]:
    """Texts of the window nothing could be read in, most distinct buyers first."""
    found: dict[str, set[int]] = defaultdict(set)
    other: dict[str, str | None] = {}
    for s in _signals(session, today, weeks):
        if not _readable(s):
            found[s.text].add(s.buyer_id)
            other[s.text] = s.other
    counts = Counter({t: len(b) for t, b in found.items()})
    return [Unread(t, n, other[t]) for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


@dataclass(frozen=True)
class VariantAnswer:
    """A variant request as recorded: the want it is (the item with what was changed), whether it counted
    (False: this buyer asked the same this week), and the designs open now that answer it."""

    category: str
    attributes: tuple[tuple[str, str], ...]
    recorded: bool
    answered_by: tuple[int, ...]


def variant_options(session: Session, taxonomy: Taxonomy, spec: DesignSpec, *, cost_share: float) -> dict[str, list[str]]:
    """Per kind, what an item could be asked in: the taxonomy's values for its category that some factory
    of the registry can make with the rest of the item unchanged (its own value left out)."""
    registry = production.factories(session)
    return {kind: [v for v in taxonomy.allowed(kind, spec.category) if v != getattr(spec, kind)
                   and production.capable(registry, taxonomy, replace(spec, **{kind: v}), cost_share=cost_share)]
            for kind in VARIANT_KINDS}


def request_variant(session: Session, *, buyer_id: int, design: Design, spec: DesignSpec, changes: dict[str, str],
                    taxonomy: Taxonomy, cost_share: float, now: datetime) -> VariantAnswer:
    """A buyer asks for item `design` in other values (轻定制): recorded as a want for the item with those
    values, once per buyer and week; answered by the open designs that have them. Invalid for a kind not
    in VARIANT_KINDS, nothing changed, or a value no factory can make on this item."""
    unknown = set(changes) - set(VARIANT_KINDS)
    if unknown:
        raise Invalid(f"a variant changes {', '.join(VARIANT_KINDS)}; not {', '.join(sorted(unknown))}",
                      field=sorted(unknown)[0])
    changes = {k: v for k, v in changes.items() if v and v != getattr(spec, k)}
    if not changes:
        raise Invalid("name a colour, material or pattern other than the item's own", field="color")
    registry = production.factories(session)
    for kind, value in changes.items():  # only the values asked for are checked; the options only to say why not
        if value not in taxonomy.allowed(kind, spec.category) or not production.capable(
                registry, taxonomy, replace(spec, **{kind: value}), cost_share=cost_share):
            options = variant_options(session, taxonomy, spec, cost_share=cost_share)[kind]
            raise Invalid(f"{value!r} is no {kind} a factory makes this {spec.category} in; "
                          f"choose one of: {', '.join(options) or '(none)'}", field=kind)
    wanted = replace(spec, **changes)
    attributes = tuple(sorted((k, getattr(wanted, k)) for k in VARIANT_KINDS))
    text = " ".join([*changes.values(), spec.category])  # e.g. "navy linen hoodie"
    recorded = _store(session, buyer_id=buyer_id, source="variant", text=text, category=spec.category,
                      attributes=attributes, other=None, design_id=design.id, now=now)
    open_designs = session.scalars(select(Design).where(Design.category == spec.category,
                                                        Design.status.in_(BOOK_STATES)))
    answered = tuple(d.id for d in open_designs
                     if all(d.spec.get(k) == v for k, v in attributes) and d.id != design.id)
    return VariantAnswer(spec.category, attributes, recorded, answered)
