"""The catalogue as validated configuration: kinds, flags, and every error naming its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from layers.catalog import CATALOG_FILE, STATISTICS_LAYER, CatalogError, load_catalog, parse_catalog
from layers.kinds import KINDS
from portal import create_app

BUNDLED = CATALOG_FILE.read_text(encoding="utf-8")


def test_the_bundled_catalogue_declares_kinds_and_flags():
    catalog = load_catalog()
    assert {layer.kind.name for layer in catalog.layers.values()} == {"point", "polygon", "unit_stat"}
    assert catalog.layer(STATISTICS_LAYER).kind is KINDS["unit_stat"]
    assert [layer.id for layer in catalog.access_blockers()] == ["lockdown_zones"]
    assert list(catalog.finder_layers()) == ["testing", "vaccination", "pharmacy", "treatment"]
    assert "home_isolation" not in catalog.searchable()  # restricted: never searched in public
    assert all(layer.kind.has_features for layer in catalog.feature_layers())
    assert STATISTICS_LAYER not in {layer.id for layer in catalog.feature_layers()}


def _edited(old: str, new: str) -> str:
    assert old in BUNDLED, old
    return BUNDLED.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# (what is broken, the edit, the key path the error names, the line the error points at)
CASES = [
    ("unknown kind", ("    kind: polygon\n", "    kind: zone\n"), "layers.lockdown_zones.kind", "kind: zone"),
    ("missing kind", ("  pharmacies:\n    title: {vi: Nhà thuốc, en: Pharmacies}\n    kind: point\n",
                      "  pharmacies:\n    title: {vi: Nhà thuốc, en: Pharmacies}\n"),
     "layers.pharmacies", "pharmacies:"),
    ("bad colour", ('    color: "#1570ef"\n', '    color: blue\n'), "layers.testing_sites.color",
     "color: blue"),
    ("bad id", ("  testing_sites:\n", "  Testing-Sites:\n"), "layers.Testing-Sites", "Testing-Sites:"),
    ("unknown attribute type",
     ("{name: note, type: text, public: false", "{name: note, type: memo, public: false"),
     "layers.testing_sites.attributes[", "type: memo"),
    ("choice without choices",
     ("{name: note, type: text, public: false", "{name: note, type: choice, public: false"),
     "layers.testing_sites.attributes[", "type: choice"),
    ("empty aliases", ("aliases: [ghi chu, note, notes]", "aliases: []"), "layers.testing_sites.attributes[",
     "aliases: []"),
    ("missing label", (", label: {vi: Ghi chú, en: Note}}", "}"), "layers.testing_sites.attributes[",
     "{name: note, type: text, public: false, aliases: [ghi chu, note, notes]}"),
    ("searchable polygon", ("    kind: polygon\n", "    kind: polygon\n    searchable: True\n"),
     "layers.lockdown_zones.searchable", "searchable: True"),
    ("blocking points", ("    finder_key: pharmacy\n", "    finder_key: pharmacy\n    blocks_access: true\n"),
     "layers.pharmacies.blocks_access", "blocks_access: true"),
    ("flag not a boolean", ("    finder_key: pharmacy\n", "    finder_key: pharmacy\n    shown: maybe\n"),
     "layers.pharmacies.shown", "shown: maybe"),
    ("finder key without search", ("    kind: polygon\n", "    kind: polygon\n    finder_key: zones\n"),
     "layers.lockdown_zones.finder_key", "finder_key: zones"),
    ("unknown location role", ("location_columns:\n", "location_columns:\n  altitude: [cao do]\n"),
     "location_columns", "location_columns:"),
    ("no statistics title",
     ("  title: {vi: Số liệu theo đơn vị hành chính, en: Statistics by administrative unit}\n", ""),
     "statistics", "statistics:"),
    ("metric without English", ("new_cases: {vi: Ca mắc mới, en: New cases,", "new_cases: {vi: Ca mắc mới,"),
     "statistics.metrics.new_cases", "new_cases: {vi: Ca mắc mới,"),
    ("wrong version", ("version: 1\n", "version: 2\n"), "version", "version: 2"),
]


@pytest.mark.parametrize(("edit", "where", "needle"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_every_catalogue_error_names_file_line_and_reason(tmp_path, edit, where, needle):
    text = _edited(*edit)
    path = tmp_path / "catalog.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(path)
    error = raised.value
    assert error.file == str(path) and error.where.startswith(where) and error.reason
    assert error.line == _line_of(text, needle), (error.line, str(error))
    assert str(error).startswith(f"{path}:{error.line}: {error.where}: ")


def test_yaml_syntax_and_missing_files_are_catalogue_errors(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(_edited("layers:\n", "layers:\n  - [unclosed\n"), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(broken)
    assert raised.value.line is not None and "YAML" in raised.value.reason
    with pytest.raises(CatalogError) as raised:
        load_catalog(tmp_path / "absent.yml")
    assert raised.value.file == str(tmp_path / "absent.yml") and raised.value.line is None


@pytest.mark.parametrize("data", [None, [], {"version": 1},
                                  {"version": 1, "location_columns": {}, "layers": []}])
def test_shapeless_data_is_refused(data):
    with pytest.raises(CatalogError):
        parse_catalog(data)


def test_the_statistics_id_is_reserved(tmp_path):
    path = tmp_path / "catalog.yml"
    path.write_text(_edited("  testing_sites:\n", f"  {STATISTICS_LAYER}:\n"), encoding="utf-8")
    with pytest.raises(CatalogError, match="unit_stats"):
        load_catalog(path)


def test_a_bad_catalogue_stops_the_portal_at_start_up(tmp_path, database_url):
    path = tmp_path / "catalog.yml"
    path.write_text(_edited("    kind: polygon\n", "    kind: zone\n"), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        create_app({"database_url": database_url, "catalog_file": str(path)})
    assert raised.value.line == _line_of(path.read_text(encoding="utf-8"), "kind: zone")


def test_the_portal_keeps_its_own_catalogue(tmp_path, database_url):
    path = Path(tmp_path / "catalog.yml")
    data = yaml.safe_load(BUNDLED)
    data["layers"]["testing_sites"]["title"] = {"vi": "Điểm lấy mẫu", "en": "Sampling points"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app = create_app({"database_url": database_url, "catalog_file": str(path)})
    other = create_app({"database_url": database_url})
    assert app.extensions["epimap.catalog"].layer("testing_sites").title_en == "Sampling points"
    assert other.extensions["epimap.catalog"].layer("testing_sites").title_en == "Testing sites"
