"""The direction of imports in ARCHITECTURE.md, checked on the source."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "generation": {"app", "matching", "fastapi", "sqlalchemy", "alembic", "starlette", "pydantic_settings"},
    "matching": {"app", "generation", "fastapi", "sqlalchemy", "alembic", "starlette", "pydantic_settings"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_domain_packages_do_not_import_upwards_or_across(package):
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN[package])
        for p in (ROOT / package).rglob("*.py")
        if _imports(p) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_no_pickle_anywhere():
    for package in ("app", "generation", "matching", "scripts"):
        for p in (ROOT / package).rglob("*.py"):
            assert "pickle" not in _imports(p), p
