"""A small market for the tests that run the real server: factories, published designs, buyers with tokens."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from app.db import transaction
from app.models import Design, utcnow
from app.services import accounts, designs, production
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec
from generation.images.base import FlatSketchGenerator
from matching.factories.synthetic import make_factory_registry


@dataclass
class Market:
    home: Path
    designs: list[dict]  # id, moq, threshold of each published design
    buyers: list[tuple[int, str]]  # (buyer id, bearer token) per buyer user
    admin: str  # an admin's bearer token


def build_market(home: Path, *, n_buyers: int, categories: tuple[tuple[str, str], ...] = (("socks", "cotton"),)) -> Market:
    """Publish one plain design per (category, material) and make `n_buyers` buyer users, through the services."""
    ws = Workspace.open(Settings(home=home))
    sketches = FlatSketchGenerator(ws.taxonomy, size=64)
    mp = pytest.MonkeyPatch()  # a cheap argon2 profile: the hash is not what is tested here
    mp.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    try:
        with transaction(ws.sessions) as s:
            production.import_factories(s, make_factory_registry(240))
            made = []
            for category, material in categories:
                spec = DesignSpec(category=category, color="navy", material=material,
                                  price_tiers=price_tiers(ws.taxonomy, category, material, 0),
                                  moq=ws.taxonomy.category(category).buyer_moq, name=f"Plain navy {category}")
                d = Design(name=spec.name, category=category, spec=spec.to_dict(), status="draft", images=[])
                s.add(d)
                s.flush()
                sketches.generate(spec)[0].save(ws.settings.images_dir / f"design-{d.id}-0.png")
                d.images = [f"design-{d.id}-0.png"]
                made.append(d)
            published = designs.publish(s, ws, [d.id for d in made], now=utcnow())
            out = [{"id": d.id, "moq": d.spec["moq"], "threshold": d.production_threshold} for d in published]
            now, ttl = utcnow(), timedelta(hours=2)
            buyers = []
            for i in range(n_buyers):
                user = accounts.create_user(s, f"buyer-{i}", "not the point", "buyer")
                buyers.append((user.buyer_id, accounts.issue_token(s, user, now, ttl)))
            admin = accounts.create_user(s, "root", "not the point", "admin")
            admin_token = accounts.issue_token(s, admin, now, ttl)
    finally:
        mp.undo()
        ws.close()
    return Market(home, out, buyers, admin_token)


@pytest.fixture
def market_factory(tmp_path):
    """`market_factory(n_buyers=..., categories=...)`: a `Market` in a fresh workspace."""
    return lambda **kw: build_market(tmp_path / "ws", **kw)


@pytest.fixture(scope="module")
def module_market_factory(tmp_path_factory):
    """The same, for a market shared by a module's tests (e.g. behind one server)."""
    return lambda **kw: build_market(tmp_path_factory.mktemp("market") / "ws", **kw)
