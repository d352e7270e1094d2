"""The one place configuration is read. Everything else receives values from a `Settings`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SHIPPED_IMAGE_MODEL = Path(__file__).resolve().parent.parent / "weights" / "trendloom-flat-32"

# Estimates for factories whose registry does not say (`matching.factories.estimates`; judgement, not
# measurement). Monthly pieces per worker by category: the head-count ratios of the synthetic registry's
# belts (matching/factories/synthetic.py), i.e. what a worker of a factory making mostly that product
# turns out in a month, all staff counted. "default": a category not listed.
FACTORY_OUTPUT_PER_WORKER: dict[str, int] = {
    "t-shirt": 600, "dress": 250, "hoodie": 350, "leggings": 600, "sneakers": 250, "tote-bag": 600, "cap": 700,
    "scarf": 1500, "socks": 4000, "tights": 3000, "cleaning-cloth": 8000, "cushion-cover": 900,
    "throw-blanket": 400, "phone-case": 3000, "tumbler": 800, "default": 300,
}
# MOQ (pieces per design) by a word of the facility or processing type; "default": no word matches or
# no type given. Export garment factories quote 300-1,000 pieces a style; embellishers and sample rooms less.
FACTORY_MOQ_BY_FACILITY_TYPE: dict[str, int] = {
    "default": 500, "final product assembly": 500, "sewing": 500, "knitting": 500, "printing": 200,
    "embroidery": 200, "embellishment": 200, "workshop": 100, "small batch": 50, "sample": 50,
}


class Settings(BaseSettings):
    """Read from the environment (prefix `TRENDLOOM_`; `DATABASE_URL` also works unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="TRENDLOOM_", extra="ignore")

    home: Path = Field(default=Path("var"), description="workspace folder: database, images, indexes")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "TRENDLOOM_DATABASE_URL"),
        description="SQLAlchemy URL; default SQLite (WAL) at HOME/trendloom.db",
    )
    taxonomy_path: Path | None = Field(default=None, description="taxonomy JSON; default the shipped one")
    image_size: int = Field(default=256, ge=32, le=1024, description="pixels of stored design images")
    image_backend: Literal["trendloom", "diffusers", "flat"] = Field(
        default="trendloom", description="trendloom = the shipped diffusion model; diffusers = any diffusers "
        "text-to-image pipeline at IMAGE_MODEL; flat = the procedural flat sketch only")
    image_model: str | None = Field(default=None, description="model folder (or hub id for diffusers); "
                                    "default the shipped weights/trendloom-flat-32")
    image_steps: int | None = Field(default=None, ge=1, le=200, description="sampling steps; default the model's")
    image_guidance: float | None = Field(default=None, ge=0, le=30, description="classifier-free guidance scale")
    image_scheduler: str | None = Field(default=None, description="dpm-solver or ddim (shipped model)")
    test_window_days: int = Field(default=14, ge=1, description="days a published design is tested at most")
    test_impressions: int = Field(default=1000, ge=10, description="impressions a design is tested with at most")
    split_cost_cents: int = Field(default=5_000, ge=0, description="fixed cost per extra factory in an allocation")
    embedder_path: Path | None = Field(default=None, description="sentence-transformers folder; default the shipped MiniLM")
    exposure_policy: Literal["threshold", "thompson", "uniform"] = "threshold"
    relevance_weight: float = Field(default=0.3, ge=0, le=10, description="weight of buyer relevance in the feed")
    blas_threads: int = Field(default=1, ge=1, le=256, description="BLAS threads in the API server: numpy's small "
                              "mat-vecs per request ran 9x slower with 2 threads than with 1 on a busy 2-core machine")
    win_probability: float = Field(default=0.9, gt=0, le=1, description="P(reach threshold) that declares a winner")
    drop_probability: float = Field(default=0.05, ge=0, lt=1, description="P(reach threshold) below which a design is dropped")
    min_impressions: int = Field(default=50, ge=0, description="impressions before probabilities may decide")
    prior_neighbours: int = Field(default=10, ge=1, le=100, description="decided designs behind a new design's prior")
    prior_strength: float = Field(default=100.0, gt=0, description="pseudo-impressions of the prior")
    decide_every_s: float = Field(default=60.0, ge=0, description="seconds between automatic decisions in the server; 0 = off")
    max_quantity: int = Field(default=100_000, ge=1, description="largest pre-order quantity accepted")
    cost_share: float = Field(default=0.55, gt=0, lt=1, description="ex-factory cost as a share of the 50+ tier price")
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$",
                          description="ISO 4217 code every price is in (stored as integer hundredths)")
    session_ttl_hours: float = Field(default=24 * 7, gt=0, description="how long a web sign-in lasts")
    token_ttl_days: float = Field(default=90, gt=0, description="how long an API token issued at sign-in lasts")
    login_max_failures: int = Field(default=5, ge=1, description="failed sign-ins for one login within LOGIN_WINDOW_S "
                                    "after which it is refused (429) until the oldest failure leaves the window")
    login_client_max_failures: int = Field(default=20, ge=0, description="the same per client address, whatever the "
                                           "logins; 0 = no per-address limit (e.g. behind a proxy that hides addresses)")
    login_window_s: float = Field(default=15 * 60, gt=0, description="seconds a failed sign-in counts against the limits")
    event_limit_per_minute: int = Field(default=1200, ge=0, description="browse events one buyer may send per minute "
                                        "(a batch counts each event); over it: 429 with Retry-After; 0 = no limit")
    page_limit_per_minute: int = Field(default=120, ge=0, description="feed pages, search results and item pages "
                                       "served to one buyer per minute; 0 = no limit")
    order_limit_per_hour: int = Field(default=60, ge=0, description="pre-orders placed plus cancelled by one buyer "
                                      "per hour; 0 = no limit")
    secure_cookies: bool = Field(default=False, description="mark the session cookie Secure (set when served over HTTPS)")
    shortlist_min: int = Field(default=64, ge=1, description="factory matching: capability shortlist K is at least this")
    shortlist_share: float = Field(default=0.3, gt=0, le=1, description="factory matching: K is at least this share of the registry")
    exact_max_lanes: int = Field(default=2_000, ge=0, description="joint allocation: the MILP also runs up to this many lanes")
    exact_time_limit_s: float = Field(default=5.0, gt=0, le=600, description="joint allocation: seconds the MILP may take in the service")
    reorder_sell_through: float = Field(default=0.7, gt=0, le=1, description="share of shipped pieces sold that triggers a reorder")
    reorder_multiple: float = Field(default=1.0, gt=0, le=10, description="a reorder is this multiple of the pieces sold since the last one")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, description="largest trend file or image upload")
    max_image_pixels: int = Field(default=25_000_000, ge=1024, description="largest decoded image (width x height)")
    factory_output_per_worker: dict[str, int] = Field(
        default_factory=lambda: dict(FACTORY_OUTPUT_PER_WORKER),
        description="factory estimates: monthly pieces per worker by category ('default' for the rest); capacity "
        "of a factory that gives none = workers x its slowest category's figure. Keys given replace the shipped ones")
    factory_moq_by_facility_type: dict[str, int] = Field(
        default_factory=lambda: dict(FACTORY_MOQ_BY_FACILITY_TYPE),
        description="factory estimates: MOQ by a word of the facility/processing type ('default' otherwise). "
        "Keys given replace the shipped ones")
    factory_workers_assumed: int = Field(default=100, ge=1, description="factory estimates: workers assumed when "
                                         "a registry gives no head count (capacity = this x pieces per worker)")
    factory_quality_assumed: float = Field(default=0.5, ge=0, le=1, description="factory estimates: quality score "
                                           "used in ranking when the registry gives none")
    factory_price_index_assumed: float = Field(default=1.0, ge=0.1, le=10, description="factory estimates: cost "
                                               "multiplier used when the registry gives none (1 = the usual cost)")

    @field_validator("factory_output_per_worker", "factory_moq_by_facility_type")
    @classmethod
    def _over_shipped(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        """Keys given replace the shipped figures; the rest stay (so one override needs one key)."""
        shipped = FACTORY_OUTPUT_PER_WORKER if info.field_name == "factory_output_per_worker" else FACTORY_MOQ_BY_FACILITY_TYPE
        bad = {k: v for k, v in value.items() if v < 1}
        if bad:
            raise ValueError(f"figures must be whole numbers >= 1, got {bad}")
        return {**shipped, **value}

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'trendloom.db').resolve()}"

    @property
    def image_model_path(self) -> str:
        return self.image_model or str(SHIPPED_IMAGE_MODEL)

    @property
    def images_dir(self) -> Path:
        return self.home / "images"

    @property
    def design_index_dir(self) -> Path:
        return self.home / "index" / "designs"

    @property
    def factory_index_dir(self) -> Path:
        return self.home / "index" / "factories"
