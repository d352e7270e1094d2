"""A workspace: the database, the taxonomy and the image backend, opened once from `Settings`.

The CLI opens one per command; the API opens one in its lifespan and keeps it on `app.state`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from generation.images.base import FlatSketchGenerator, ImageGenerator
from generation.taxonomy import Taxonomy, load_taxonomy

from app.db import make_engine, migrate, session_factory
from app.settings import Settings


@dataclass
class Workspace:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    taxonomy: Taxonomy
    images: ImageGenerator

    @classmethod
    def open(cls, settings: Settings) -> Workspace:
        """Create the folder and schema if needed, and load the taxonomy and image backend."""
        settings.home.mkdir(parents=True, exist_ok=True)
        settings.images_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.db_url)
        migrate(engine)
        taxonomy = load_taxonomy(settings.taxonomy_path)
        return cls(settings, engine, session_factory(engine), taxonomy,
                   FlatSketchGenerator(taxonomy, size=settings.image_size))

    def close(self) -> None:
        self.engine.dispose()
