"""A workspace: the database, the taxonomy, the image backend, the embedder, the design and factory indexes.

The CLI opens one per command; the API opens one in its lifespan and keeps it on `app.state`. The
embedder and the design index load on first use (a CLI `status` never pays for them); the API touches
both at start-up so requests never do.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from generation.concepts.spec import DesignSpec
from generation.images.base import FlatSketchGenerator, ImageGenerator
from generation.language.extract import ProductLanguage
from generation.taxonomy import AttributeAddition, Taxonomy, extended, load_taxonomy
from matching.embeddings import TextEmbedder
from matching.errors import MatchingError
from matching.factories.capability import CapabilityIndex, registry_fingerprint
from matching.factories.registry import Factory
from matching.index import VectorIndex

from app.db import make_engine, migrate, session_factory
from app.models import Design, TaxonomyAddition
from app.services.event_writer import EventWriter
from app.services.feed import DemandCache
from app.services.search import SearchCache
from app.services.login_limit import LoginLimiter
from app.services.rate_limit import Limit, RateLimiter
from app.settings import Settings

log = logging.getLogger(__name__)
# (embedder name, capability text) -> its vector: a re-imported registry embeds only the texts that changed
_capability_vectors: dict[tuple[str, str], np.ndarray] = {}


@functools.lru_cache(maxsize=4)
def _load_embedder(path: str) -> TextEmbedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return TextEmbedder.from_pretrained(path or None)


def _taxonomy(settings: Settings, sessions: sessionmaker[Session]) -> Taxonomy:
    """The shipped taxonomy (or `settings.taxonomy_path`) extended with the additions stored in the database."""
    with sessions() as s:
        rows = s.scalars(select(TaxonomyAddition).order_by(TaxonomyAddition.id)).all()
        adds = [AttributeAddition(r.kind, r.name, r.zh, tuple(r.synonyms), tuple(r.categories) if r.categories
                                  is not None else None, r.rgb) for r in rows]
    return extended(load_taxonomy(settings.taxonomy_path), adds)


def load_image_backend(settings: Settings, taxonomy: Taxonomy) -> ImageGenerator:
    """The image backend the settings select; raises ImageModelError (with the file) if it cannot load.

    torch and diffusers are imported here, not at module level, so commands that draw nothing stay quick.
    """
    from generation.images.diffusion import TrendloomDiffusion
    from generation.images.pipeline import DiffusersText2Image

    sampling = {"steps": settings.image_steps, "guidance_scale": settings.image_guidance}
    if settings.image_backend == "flat":
        return FlatSketchGenerator(taxonomy, size=settings.image_size)
    if settings.image_backend == "diffusers":
        return DiffusersText2Image.from_pretrained(settings.image_model_path, size=None, steps=settings.image_steps or 25,
                                                   guidance_scale=5.0 if settings.image_guidance is None
                                                   else settings.image_guidance)
    emb = _load_embedder(str(settings.embedder_path or ""))
    return TrendloomDiffusion.from_pretrained(settings.image_model_path, embed=emb.encode, embedder_name=emb.name,
                                              scheduler=settings.image_scheduler, output_size=settings.image_size,
                                              **sampling)


class LazyImages:
    """The configured image backend, loaded on first use (a CLI `status` never loads a model)."""

    def __init__(self, settings: Settings, taxonomy: Taxonomy) -> None:
        self.settings, self.taxonomy = settings, taxonomy
        self._backend: ImageGenerator | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.settings.image_backend

    @property
    def backend(self) -> ImageGenerator:
        with self._lock:
            if self._backend is None:
                self._backend = load_image_backend(self.settings, self.taxonomy)
            return self._backend

    def generate(self, spec: DesignSpec, *, n: int = 1, seed: int = 0) -> list[Image.Image]:
        return self.backend.generate(spec, n=n, seed=seed)


@dataclass
class Workspace:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    taxonomy: Taxonomy
    images: LazyImages
    index_lock: threading.RLock = field(default_factory=threading.RLock)
    _embedder: TextEmbedder | None = None
    _language: ProductLanguage | None = None
    _design_index: VectorIndex | None = None
    _factory_index: CapabilityIndex | None = None
    _cache: DemandCache | None = None
    _search: SearchCache | None = None
    _writer: EventWriter | None = None
    login_limiter: LoginLimiter = field(init=False)
    # Several API workers share one workspace folder: only the leader writes the index files (app/leader.py).
    saves_index: bool = True
    rate_limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        # made here, not on first use, so two threads can never each make one
        self.login_limiter = LoginLimiter(max_per_login=self.settings.login_max_failures,
                                          max_per_client=self.settings.login_client_max_failures,
                                          window_s=self.settings.login_window_s)
        st = self.settings
        self.rate_limiter = RateLimiter({"events": Limit(st.event_limit_per_minute, 60.0),
                                         "pages": Limit(st.page_limit_per_minute, 60.0),
                                         "orders": Limit(st.order_limit_per_hour, 3600.0)})

    @classmethod
    def open(cls, settings: Settings) -> Workspace:
        """Create the folder and schema if needed, and load the taxonomy and image backend."""
        settings.home.mkdir(parents=True, exist_ok=True)
        settings.images_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.db_url)
        migrate(engine)
        sessions = session_factory(engine)
        taxonomy = _taxonomy(settings, sessions)
        return cls(settings, engine, sessions, taxonomy, LazyImages(settings, taxonomy))

    def reload_taxonomy(self) -> None:
        """Read the taxonomy again (the shipped file plus the merchandiser's additions), after an addition."""
        self.taxonomy = _taxonomy(self.settings, self.sessions)
        self.images.taxonomy = self.taxonomy
        self._language = None

    def reload_taxonomy_on_commit(self, session: Session) -> None:
        """Reload the taxonomy once `session` commits (after an addition: nothing changes if it rolls back)."""
        event.listen(session, "after_commit", lambda _s: self.reload_taxonomy(), once=True)

    @property
    def language(self) -> ProductLanguage:
        """The product-language reader on the workspace's taxonomy (built on first use: it loads jieba)."""
        with self.index_lock:
            if self._language is None or self._language.taxonomy is not self.taxonomy:
                self._language = ProductLanguage(self.taxonomy)
            return self._language

    @property
    def embedder(self) -> TextEmbedder:
        """The text embedder (loaded once per process and path, offline)."""
        if self._embedder is None:
            self._embedder = _load_embedder(str(self.settings.embedder_path or ""))
        return self._embedder

    @property
    def design_index(self) -> VectorIndex:
        """Every published design's embedding. Loaded from disk, or rebuilt from the database's stored
        embeddings when the saved index is missing or out of step (e.g. after a crash)."""
        with self.index_lock:
            if self._design_index is None:
                self._design_index = self._load_or_rebuild_index()
            return self._design_index

    def _load_or_rebuild_index(self) -> VectorIndex:
        emb = self.embedder
        with self.sessions() as s:
            rows = s.execute(select(Design.id, Design.embedding).where(Design.embedding.is_not(None))).all()
        folder = self.settings.design_index_dir
        if (folder / "manifest.json").exists():
            try:
                index = VectorIndex.load(folder, embedder=emb.name, dim=emb.dim)
                if set(index.ids.tolist()) == {r[0] for r in rows}:
                    return index
                log.warning("design index at %s is out of step with the database; rebuilding it", folder)
            except MatchingError as exc:
                log.warning("design index at %s not used (%s); rebuilding it from the database", folder, exc)
        index = VectorIndex(emb.dim, embedder=emb.name)
        if rows:
            index.add(np.array([r[0] for r in rows], dtype=np.int64),
                      np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows]))
        return index

    def sync_design_index(self) -> int:
        """Add to this process's design index the designs another process has published since it was
        loaded: with several API workers each keeps its own index, and a design published through one must
        show in the others' search and feed. A count first; the ids only when it differs. Nothing is removed:
        a published design keeps its embedding, and a publish that rolls back removes its own vectors
        (`designs.publish`). Returns how many vectors were added."""
        if self._design_index is None:
            return 0
        with self.sessions() as s:
            stored = s.scalar(select(func.count()).select_from(Design).where(Design.embedding.is_not(None))) or 0
            if stored == len(self._design_index):
                return 0
            ids = set(s.scalars(select(Design.id).where(Design.embedding.is_not(None))))
            with self.index_lock:
                new = sorted(ids - set(self._design_index.ids.tolist()))
            rows = s.execute(select(Design.id, Design.embedding).where(Design.id.in_(new))).all() if new else []
        if not rows:
            return 0
        with self.index_lock:
            have = set(self._design_index.ids.tolist())
            fresh = [(i, blob) for i, blob in rows if i not in have and blob is not None]  # not added meanwhile
            if fresh:
                self._design_index.add(np.array([i for i, _ in fresh], dtype=np.int64),
                                       np.stack([np.frombuffer(blob, dtype=np.float32) for _, blob in fresh]))
        return len(fresh)

    def embed_capabilities(self, texts: list[str] | tuple[str, ...]) -> np.ndarray:
        """`embedder.encode`, remembering each text's vector for the life of the process."""
        emb = self.embedder
        todo = sorted({t for t in texts if (emb.name, t) not in _capability_vectors})
        for text, vec in zip(todo, emb.encode(todo)):
            _capability_vectors[emb.name, text] = vec
        return np.stack([_capability_vectors[emb.name, t] for t in texts]) if texts else np.zeros((0, emb.dim), np.float32)

    def capability_index(self, factories: list[Factory], *, workspace_registry: bool = True) -> CapabilityIndex:
        """The capability index of `factories`, built once. For the workspace's own registry it is kept
        here and saved beside the design index, and rebuilt when the registry changes (an import: its
        fingerprint differs); another registry (a CSV given to `match`) is built and not kept."""
        with self.index_lock:
            emb = self.embedder
            if not workspace_registry:
                return CapabilityIndex.build(factories, self.embed_capabilities, embedder=emb.name)
            if self._factory_index is not None and self._factory_index.fingerprint == registry_fingerprint(factories):
                return self._factory_index
            folder = self.settings.factory_index_dir
            index = None
            if (folder / "manifest.json").exists():
                try:
                    index = CapabilityIndex.load(folder, factories, embedder=emb.name, dim=emb.dim)
                except MatchingError as exc:
                    log.info("factory index at %s not used (%s); rebuilding it", folder, exc)
            if index is None:
                index = CapabilityIndex.build(factories, self.embed_capabilities, embedder=emb.name)
                index.save(folder)
            self._factory_index = index
            return index

    @property
    def demand_cache(self) -> DemandCache:
        """Open designs as arrays for the feed, search and decisions (one per process)."""
        if self._cache is None:
            self._cache = DemandCache(self.sessions)
        return self._cache

    @property
    def search_cache(self) -> SearchCache:
        """The hybrid search index over the open designs (one per process, rebuilt as they change)."""
        if self._search is None:
            self._search = SearchCache()
        return self._search

    @property
    def event_writer(self) -> EventWriter:
        """The group-commit writer for interest events (one thread per process)."""
        if self._writer is None:
            self._writer = EventWriter(self.sessions)
        return self._writer

    def save_index(self) -> None:
        with self.index_lock:
            if self._design_index is not None and self.saves_index:
                self._design_index.save(self.settings.design_index_dir)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.save_index()
        self.engine.dispose()
