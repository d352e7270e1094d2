"""SQLAlchemy ORM models. Quantities are pieces and prices cents, both integers.

Status lifecycles (`app.lifecycle` owns the states and moves; recorded here as CHECK constraints):
- design and factory order: see `app.lifecycle`
- pre-order:     active -> cancelled (by its buyer while the book is open, or released when the design is
                 dropped) | confirmed (when the book closes at the threshold)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, Float, ForeignKey, Index, Integer,
                        LargeBinary, String, Text, UniqueConstraint, false, true)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from matching.interest import EVENT_KINDS

from app.lifecycle import DesignState, OrderState, PreOrderState

DESIGN_STATUSES = tuple(str(s) for s in DesignState)
ORDER_STATUSES = tuple(str(s) for s in OrderState)
PREORDER_STATUSES = tuple(str(s) for s in PreOrderState)
BUYER_KINDS = ("shop", "live_streamer", "consumer_group")
PAGES = ("feed", "search", "item")  # the pages a served impression was on


def utcnow() -> datetime:
    """Naive UTC now: every timestamp in the database is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def _in(table: str, column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"ck_{table}_{column}")


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class TrendSeries(Base):
    """A weekly series under the name it was imported with, and what it measures: an attribute (kind +
    name), in one category or (None) in every category it applies to. Kind and attribute are None for a
    series nobody has mapped yet; region and segment only come with trendloom's own naming convention."""

    __tablename__ = "trend_series"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str | None] = mapped_column(String(20))
    segment: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(50), index=True)
    kind: Mapped[str | None] = mapped_column(String(20))
    attribute: Mapped[str | None] = mapped_column(String(50))
    how: Mapped[str] = mapped_column(String(20), default="convention", server_default="convention")
    source: Mapped[str] = mapped_column(String(500))
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SeriesMappingRow(Base):
    """A merchandiser's correction of what a series name means, kept for every later import of that name."""

    __tablename__ = "series_mappings"
    series: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str | None] = mapped_column(String(20))  # None: "this series is about nothing we make"
    attribute: Mapped[str | None] = mapped_column(String(50))
    category: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TaxonomyAddition(Base):
    """An attribute a merchandiser added to the shipped taxonomy (with its Chinese name), or more words for
    one that exists: the taxonomy the workspace uses is the shipped file plus these rows."""

    __tablename__ = "taxonomy_additions"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_taxonomy_addition"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))
    zh: Mapped[str] = mapped_column(String(50), default="")
    synonyms: Mapped[list[Any]] = mapped_column(JSON, default=list)
    categories: Mapped[list[Any] | None] = mapped_column(JSON)  # None: every category
    rgb: Mapped[str | None] = mapped_column(String(7))  # colours: "#rrggbb"
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CatalogItem(Base):
    """A product of the merchandiser's own catalogue. Attributes the file did not give are read from the
    name and description (`inferred` lists which); None where neither says. `units_sold` (None: unknown)
    seeds the demand prior of new designs; every item is what new designs must be novel against."""

    __tablename__ = "catalog_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(String(100), unique=True)  # the merchandiser's id
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(50), index=True)
    color: Mapped[str | None] = mapped_column(String(50))
    material: Mapped[str | None] = mapped_column(String(50))
    pattern: Mapped[str | None] = mapped_column(String(50))
    silhouette: Mapped[str | None] = mapped_column(String(50))
    price_cents: Mapped[int | None] = mapped_column(Integer)
    launch_date: Mapped[date | None] = mapped_column(Date)
    units_sold: Mapped[int | None] = mapped_column(Integer)
    image: Mapped[str | None] = mapped_column(String(500))
    inferred: Mapped[list[Any]] = mapped_column(JSON, default=list)  # fields read from the text
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 text embedding
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TrendPoint(Base):
    __tablename__ = "trend_points"
    series_id: Mapped[int] = mapped_column(ForeignKey("trend_series.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class TrendSignalRow(Base):
    """The latest analysis of one series: year-on-year growth with its 95% interval."""

    __tablename__ = "trend_signals"
    __table_args__ = (_in("trend_signals", "direction", ("rising", "fading", "flat")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("trend_series.id", ondelete="CASCADE"), unique=True)
    growth: Mapped[float] = mapped_column(Float)
    lo: Mapped[float] = mapped_column(Float)
    hi: Mapped[float] = mapped_column(Float)
    recent_mean: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(20))
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Design(Base):
    __tablename__ = "designs"
    __table_args__ = (_in("designs", "status", DESIGN_STATUSES), Index("ix_designs_status", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default=DesignState.DRAFT.value)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    images: Mapped[list[Any]] = mapped_column(JSON, default=list)  # paths relative to the workspace
    production_threshold: Mapped[int | None] = mapped_column(Integer)  # pieces to win
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    window_end: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    # Demand counters, kept in the same transaction as the events and pre-orders that move them. The two
    # pre-order counters count the pre-orders placed and not cancelled by their buyer (a buyer's cancel
    # takes its order back out; a drop's release does not: that demand was real). They feed the demand
    # posterior and, once a design is decided, the priors of similar designs.
    impressions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pre_order_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # live pre-orders
    pieces_ordered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # their pieces
    committed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # active + confirmed now
    # Pieces of `committed` in pre-orders outside the demand counters (a flagged buyer's, a rebook after
    # a cancel: `PreOrder.counted`): the book counts them, the odds and the feed do not (`abuse`).
    untrusted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The demand prior set at publish (from similar decided designs), and the last P(reach threshold).
    prior: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    p_reach: Mapped[float | None] = mapped_column(Float)
    impression_budget: Mapped[int | None] = mapped_column(Integer)  # the test's length in impressions
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 text embedding of the spec
    book_closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # pre-orders closed at threshold
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, index=True,
                                                 server_default="1970-01-01 00:00:00")


class Buyer(Base):
    __tablename__ = "buyers"
    __table_args__ = (_in("buyers", "kind", BUYER_KINDS),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(20), default="cn")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Screening (`app.services.abuse`): a buyer far outside the population is flagged for merchandisers;
    # while flagged, their interest is stored but counted in no design's counters. `trusted_at`: a
    # merchandiser cleared the flag; behaviour before it is not screened again.
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime)
    flag_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    trusted_at: Mapped[datetime | None] = mapped_column(DateTime)


class ServedImpression(Base):
    """A design the server put on a page it served to a buyer (feed, search results, item page), at most
    once per buyer, design and day. A `view` from the buyer confirms it (a page rendered by the server
    itself, with the page's own token, is confirmed when served); a confirmed impression of a buyer who
    is not flagged is `counted` in the design's impressions."""

    __tablename__ = "served_impressions"
    __table_args__ = (UniqueConstraint("buyer_id", "design_id", "day", name="uq_served_buyer_design_day"),
                      Index("ix_served_design", "design_id"), _in("served_impressions", "page", PAGES))
    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"))
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    page: Mapped[str] = mapped_column(String(10))
    served_at: Mapped[datetime] = mapped_column(DateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class InterestMark(Base):
    """A buyer's first click, favourite or inquiry on a design: the one that counts; later ones are not
    stored again (`app.services.event_writer`)."""

    __tablename__ = "interest_marks"
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(DateTime)


class Favourite(Base):
    """A design a buyer marked as a favourite (`app.services.favourites`): `active` while it is one.
    A second favourite of an active one changes nothing; an un-favourite clears `active` and stamps
    `changed_at`, so every change, and only a change, is recorded."""

    __tablename__ = "favourites"
    __table_args__ = (Index("ix_favourites_buyer_active", "buyer_id", "active"),)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    since: Mapped[datetime] = mapped_column(DateTime)  # when it was last made a favourite
    changed_at: Mapped[datetime] = mapped_column(DateTime)  # the last change (made a favourite, or not)


class BuyerActivity(Base):
    """What a buyer sent about a design in one hour: every browse event claimed (`sent`) and those that
    counted (`counted`). Screening (`app.services.abuse`) compares buyers on it: volume, speed (the
    busiest hour) and concentration on one design, counted or not."""

    __tablename__ = "buyer_activity"
    __table_args__ = (Index("ix_buyer_activity_hour", "hour"),)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    counted: Mapped[int] = mapped_column(Integer, default=0)


class InterestEvent(Base):
    __tablename__ = "interest_events"
    __table_args__ = (_in("interest_events", "kind", EVENT_KINDS), Index("ix_events_design_kind", "design_id", "kind"))
    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # False: stored as sent, but it counted nowhere (a view of nothing served, a repeat, a design not under
    # test, a flagged buyer's: `app.services.event_writer`)
    counted: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class PreOrder(Base):
    __tablename__ = "pre_orders"
    __table_args__ = (
        _in("pre_orders", "status", PREORDER_STATUSES),
        CheckConstraint("quantity > 0", name="ck_preorder_quantity_positive"),
        Index("ix_preorders_design_status", "design_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=PreOrderState.ACTIVE.value)
    # In the design's demand counters (pre_order_count, pieces_ordered): False once its buyer cancelled
    # it, and while its buyer is flagged (`app.services.abuse`); `committed` counts it regardless.
    counted: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class FactoryRow(Base):
    """A factory of the registry. What the registry did not say is NULL (unknown, never "no"): materials,
    processes, MOQ, capacity, lead time, quality, price level, workers. Planning estimates the numbers
    it needs from the settings when it reads them (`matching.factories.estimates`); nothing estimated is
    stored here. Imported registries keep their own words (`sectors`, `product_types`, `facility_type`),
    from which `categories` are read (`categories_from`) and read again after a mapping correction."""

    __tablename__ = "factories"
    id: Mapped[str] = mapped_column(String(50), primary_key=True)  # the registry's factory_id
    name: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(50))  # ISO alpha-2 where known
    region: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100), default="")
    categories: Mapped[list[Any]] = mapped_column(JSON)
    materials: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))  # None: SQL NULL, not 'null'
    processes: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    moq: Mapped[int | None] = mapped_column(Integer)
    capacity: Mapped[int | None] = mapped_column(Integer)  # pieces per month
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    quality: Mapped[float | None] = mapped_column(Float)
    price_index: Mapped[float | None] = mapped_column(Float)
    small_batch: Mapped[bool] = mapped_column(default=False)
    workers: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(Text, default="", server_default="")
    sectors: Mapped[list[Any]] = mapped_column(JSON, default=list)  # as the registry wrote them
    product_types: Mapped[list[Any]] = mapped_column(JSON, default=list)  # as the registry wrote them
    categories_from: Mapped[str] = mapped_column(String(20), default="registry", server_default="registry")
    facility_type: Mapped[str] = mapped_column(String(300), default="", server_default="")
    supplies_materials: Mapped[bool] = mapped_column(default=False, server_default="0")
    parent_company: Mapped[str] = mapped_column(String(300), default="", server_default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)  # "file:line" of every row merged into it


class FactoryTermMapping(Base):
    """A merchandiser's correction of which categories a registry's product type or sector means (an empty
    list: nothing we make), kept for every later import; like `SeriesMappingRow` for trend series."""

    __tablename__ = "factory_term_mappings"
    term: Mapped[str] = mapped_column(String(200), primary_key=True)  # `factory_registry.term_key` of the words
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FactoryOrder(Base):
    __tablename__ = "factory_orders"
    __table_args__ = (
        _in("factory_orders", "status", ORDER_STATUSES),
        CheckConstraint("quantity > 0", name="ck_factory_order_quantity_positive"),
        Index("ix_factory_orders_factory_status", "factory_id", "status"),
        UniqueConstraint("design_id", "factory_id", "round", name="uq_factory_order_round"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"), index=True)
    factory_id: Mapped[str] = mapped_column(ForeignKey("factories.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)  # 1 = first match, +1 per re-match
    batch: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # 1 = pre-orders, 2.. = reorders
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=OrderState.OFFERED.value)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Sale(Base):
    """Pieces of a shipped design sold on (reported by a merchandiser or admin): the sell-through signal."""

    __tablename__ = "sales"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_sale_quantity_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Reorder(Base):
    """A repeat batch of a design, created once when its sell-through crossed the threshold. The unique
    (design, batch) pair is what makes crossing the threshold twice create one reorder, never two."""

    __tablename__ = "reorders"
    __table_args__ = (UniqueConstraint("design_id", "batch", name="uq_reorder_batch"),
                      CheckConstraint("quantity > 0", name="ck_reorder_quantity_positive"))
    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"), index=True)
    batch: Mapped[int] = mapped_column(Integer)  # the factory orders' batch it created (2 = first reorder)
    quantity: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer)  # pieces sold when it was triggered
    shipped: Mapped[int] = mapped_column(Integer)  # pieces shipped when it was triggered
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- accounts -------------------------------------------------------------------------------------

ROLES = ("merchandiser", "buyer", "factory", "admin")
LANGUAGES = ("en", "zh-CN")


class User(Base):
    """A person who signs in. A buyer user acts for one `buyers` row, a factory user for one factory."""

    __tablename__ = "users"
    __table_args__ = (
        _in("users", "role", ROLES),
        _in("users", "language", LANGUAGES),
        CheckConstraint("(role = 'buyer') = (buyer_id IS NOT NULL)", name="ck_users_buyer_link"),
        CheckConstraint("(role = 'factory') = (factory_id IS NOT NULL)", name="ck_users_factory_link"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, with its parameters and salt
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(10), default="en")
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), unique=True)
    factory_id: Mapped[str | None] = mapped_column(ForeignKey("factories.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)  # set: cannot sign in; no token or session


class ApiToken(Base):
    """A bearer token for the API. Only the SHA-256 of the token is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="api")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random id, the row its SHA-256 and the form CSRF token."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class IdempotencyRecord(Base):
    """The first response to a request that carried an idempotency key, per user and key."""

    __tablename__ = "idempotency_keys"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


WANT_SOURCES = ("search", "inquiry", "variant")


class WantSignal(Base):
    """Something a buyer asked for and did not find (`app.services.wants`): a search with no or weak
    results, an inquiry, a variant request. Kept once per buyer, week, source and text, so a buyer who
    repeats a search moves nothing; `category` and `attributes` are what the product-language module read
    (both empty: the text is unread evidence, listed, never guessed into a want)."""

    __tablename__ = "want_signals"
    __table_args__ = (UniqueConstraint("buyer_id", "week", "source", "text", name="uq_want_buyer_week_text"),
                      Index("ix_want_week", "week"), _in("want_signals", "source", WANT_SOURCES))
    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)  # the Monday of the week it was asked
    source: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(String(200))  # as typed, spaces collapsed
    category: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[list[str]] = mapped_column(JSON, default=list)  # "kind:name", sorted
    other: Mapped[str | None] = mapped_column(String(64))  # a product nobody here makes ("jeans")
    design_id: Mapped[int | None] = mapped_column(ForeignKey("designs.id", ondelete="SET NULL"))
    asked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class InquiryMessage(Base):
    """One message of an inquiry thread: a buyer's question about a design, or a merchandiser's answer
    (`app.services.inquiries`). A thread is a (design, buyer) pair."""

    __tablename__ = "inquiry_messages"
    __table_args__ = (Index("ix_inquiry_thread", "design_id", "buyer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_buyer: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(String(1000))
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class NoticeRow(Base):
    """One notice in someone's inbox (`app.services.notices`): a buyer's, a factory's, or the merchandisers'
    (`staff`, one row they share). `kind` and `target` say what happened (a design or order move, an
    answered inquiry, a design for what the buyer asked); `read_at` is set when its owner opened the inbox."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_buyer", "buyer_id", "read_at"), Index("ix_notices_factory", "factory_id"),
                      Index("ix_notices_staff", "staff", "read_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"))
    factory_id: Mapped[str | None] = mapped_column(String(64))
    staff: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(30))
    design_id: Mapped[int | None] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
