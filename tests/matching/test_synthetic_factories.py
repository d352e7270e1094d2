"""The synthetic factory registry: valid, deterministic, realistic, and covering every category."""

from __future__ import annotations

import re
from statistics import mean

import pytest

from generation.taxonomy import Taxonomy, load_taxonomy
from matching.factories.registry import Factory, read_factories_csv, write_factories_csv
from matching.factories.synthetic import BELTS, CATEGORY_PROFILES, make_factory_registry

BELT_CITIES = ("Haining", "Zhuji", "Foshan", "Yiwu", "Guangzhou", "Dongguan", "Shenzhen", "Yongkang",
               "Taizhou", "Jinjiang", "Putian", "Nantong", "Shaoxing", "Baigou", "Shengzhou", "Changshu")


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def factories() -> list[Factory]:
    return make_factory_registry()


def _materials_for(taxonomy: Taxonomy, category: str) -> set[str]:
    return set(taxonomy.allowed("material", category))


def test_count_and_unique_ids(factories: list[Factory]) -> None:
    assert len(factories) == 240
    ids = [f.factory_id for f in factories]
    assert ids == [f"F{i:04d}" for i in range(1, 241)]
    assert len({f.name for f in factories}) == len(factories)
    assert len(make_factory_registry(200, seed=5)) == 200


def test_same_seed_same_registry_other_seed_differs() -> None:
    assert make_factory_registry(seed=3) == make_factory_registry(seed=3)
    assert make_factory_registry(seed=3) != make_factory_registry(seed=4)


def test_rejects_non_positive_n() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        make_factory_registry(0)


def test_literal_tables_agree_with_taxonomy(taxonomy: Taxonomy) -> None:
    assert set(CATEGORY_PROFILES) == set(taxonomy.categories)
    for name, profile in CATEGORY_PROFILES.items():
        assert set(profile.processes) == set(taxonomy.categories[name].processes), name
    for belt in BELTS:
        assert set(belt.extra_processes) <= taxonomy.processes, belt.city
        for category, materials in belt.products.items():
            assert set(materials) <= _materials_for(taxonomy, category), (belt.city, category)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_every_field_valid(taxonomy: Taxonomy, seed: int) -> None:
    factories = make_factory_registry(seed=seed)
    for f in factories:
        assert re.fullmatch(r"F\d{4}", f.factory_id)
        assert f.name.endswith("Co., Ltd.") and f.country in {"CN", "VN", "BD"}
        assert f.region and f.city
        assert 1 <= len(f.categories) <= 4 and len(set(f.categories)) == len(f.categories)
        assert set(f.categories) <= set(taxonomy.categories)
        assert set(f.materials) <= taxonomy.materials
        assert set(f.processes) <= taxonomy.processes
        for c in f.categories:  # every listed category can actually be made
            assert set(f.materials) & _materials_for(taxonomy, c), (f.factory_id, c)
            assert set(taxonomy.categories[c].processes) <= set(f.processes), (f.factory_id, c)
        assert 1 <= f.moq <= f.capacity
        assert f.small_batch == (f.moq <= 300)
        if f.small_batch:
            assert 50 <= f.moq <= 300 and 2_000 <= f.capacity <= 20_000
        else:
            assert 500 <= f.moq <= 3_000 and 20_000 <= f.capacity <= 300_000
        assert 7 <= f.lead_time_days <= 60
        assert 0.0 <= f.quality <= 1.0 and round(f.quality, 2) == f.quality
        assert 0.6 <= f.price_index <= 1.6 and round(f.price_index, 2) == f.price_index
        assert isinstance(f.workers, int) and f.workers > 0
    assert sum(f.small_batch for f in factories) >= 0.35 * len(factories)


def test_csv_round_trip(tmp_path, taxonomy: Taxonomy, factories: list[Factory]) -> None:
    path = tmp_path / "factories.csv"
    write_factories_csv(factories, path)
    back = read_factories_csv(path, known_categories=taxonomy.categories,
                              known_materials=taxonomy.materials)
    assert back == factories


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_every_category_has_three_fast_small_batch_makers(taxonomy: Taxonomy, seed: int) -> None:
    factories = make_factory_registry(seed=seed)
    for name, category in taxonomy.categories.items():
        makers = [
            f for f in factories
            if name in f.categories and f.small_batch and f.moq <= 300 and f.lead_time_days <= 21
            and set(f.materials) & _materials_for(taxonomy, name)
            and set(category.processes) <= set(f.processes)
        ]
        assert len(makers) >= 3, (name, len(makers))


def test_every_belt_city_present(factories: list[Factory]) -> None:
    cities = {f.city for f in factories}
    assert set(BELT_CITIES) <= cities
    assert all(f.country == "CN" for f in factories if f.city in BELT_CITIES)


def test_belt_profiles_are_realistic(factories: list[Factory]) -> None:
    haining = [f for f in factories if f.city == "Haining"]
    zhuji = [f for f in factories if f.city == "Zhuji"]
    assert all(0.85 <= f.quality <= 0.95 for f in haining)
    assert all(0.70 <= f.price_index <= 0.85 for f in zhuji)
    assert mean(f.price_index for f in haining) > mean(f.price_index for f in zhuji)
    assert mean(f.quality for f in haining) > mean(f.quality for f in zhuji)
    assert all(set(f.categories) <= {"socks", "tights"} for f in zhuji)
    assert {c for f in factories if f.city == "Shenzhen" for c in f.categories} == {"phone-case"}
    # more apparel and hosiery makers than electronics makers
    soft = {"t-shirt", "dress", "hoodie", "leggings", "socks", "tights"}
    assert sum(bool(soft & set(f.categories)) for f in factories) > 5 * sum(
        "phone-case" in f.categories for f in factories)
    # sneakers and tumblers take longer than socks on average
    def lead(category: str) -> float:
        return mean(f.lead_time_days for f in factories if f.categories[0] == category)
    assert lead("sneakers") > lead("socks") and lead("tumbler") > lead("socks")
