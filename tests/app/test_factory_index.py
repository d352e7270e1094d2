"""The factory capability index is built once per workspace, saved beside the design index, loaded by the
next process without embedding again, and rebuilt when an import changes the registry."""

from app.db import transaction
from app.services import production
from app.settings import Settings
from app.workspace import Workspace
from matching.factories.synthetic import make_factory_registry


def test_factory_index_is_built_once_and_follows_imports(home, fake_embedder, monkeypatch):
    calls = []
    encode = fake_embedder.encode
    monkeypatch.setattr(fake_embedder, "encode", lambda texts: calls.append(len(texts)) or encode(texts))
    registry = make_factory_registry(60, seed=3)
    ws = Workspace.open(Settings())
    with transaction(ws.sessions) as s:
        production.import_factories(s, registry)
        stored = production.factories(s)
    first = ws.capability_index(stored)
    assert ws.capability_index(stored) is first and len(first.factories) == 60
    assert (ws.settings.factory_index_dir / "factories.json").is_file()
    ws.close()

    ws = Workspace.open(Settings())  # a new process: loaded from disk, nothing embedded
    import app.workspace
    monkeypatch.setattr(app.workspace, "_capability_vectors", {})
    before = len(calls)
    with ws.sessions() as s:
        again = ws.capability_index(production.factories(s))
    assert len(calls) == before and again.fingerprint == first.fingerprint and again is not first
    changed = make_factory_registry(61, seed=4)[-1:]  # one more factory imported
    with transaction(ws.sessions) as s:
        production.import_factories(s, changed)
        grown = ws.capability_index(production.factories(s))
    assert len(grown.factories) == 61 and grown.fingerprint != first.fingerprint
    assert ws.capability_index(grown.factories) is grown
    ws.close()
