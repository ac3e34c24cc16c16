"""``epimap ingest`` and ``epimap layers history/rollback``: output, exit codes and effects on the tables."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.ingest.builders import (
    BAD,
    SITES,
    bad_file,
    changed_checkpoints,
    checkpoint_rows,
    current_features,
    latest_publication,
    layer_counts,
    publication,
    write_csv,
    write_xlsx,
)
from tests.ingest.helpers import REASON_CATEGORIES, SAMPLES, expected, metres_between


def one_line_error(result, code: str) -> str:
    assert result.exit_code != 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert f"[{code}]" in lines[0] and " / " in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def first_pub(connection) -> int:
    assert layer_counts(connection, "checkpoints")["publications"] == 1
    return latest_publication(connection, "checkpoints")


# --------------------------------------------------------------------------- history and rollback


def test_history_lists_publications_newest_first_and_rollback_restores(run_cli, connection, first_pub,
                                                                      tmp_path):
    at_first = current_features(connection, "checkpoints")
    path = changed_checkpoints(tmp_path / "chot_moi.csv")
    result = run_cli("ingest", str(path), "--layer", "checkpoints", "--author", "cdc-bd", "--note", "đợt 2",
                     "--legal-ref", "QĐ 2145/QĐ-UBND")
    assert result.exit_code == 0, result.output
    second = latest_publication(connection, "checkpoints")
    assert f"#{second}" in result.output and second > first_pub

    history = run_cli("layers", "history", "checkpoints")
    assert history.exit_code == 0, history.output
    lines = history.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"#{second} ") and lines[1].startswith(f"#{first_pub} ")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    for part in ("ingest", "cdc-bd", "+1 ~1 -2 =22 !1", "chot_moi.csv", sha[:12], "[QĐ 2145/QĐ-UBND]"):
        assert part in lines[0], (part, lines[0])
    assert "demo" in lines[1] and "+25 ~0 -0 =0" in lines[1]

    rolled = run_cli("layers", "rollback", "checkpoints", str(first_pub), "--author", "tester")
    assert rolled.exit_code == 0, rolled.output
    third = latest_publication(connection, "checkpoints")
    assert rolled.output.strip() == f"publication #{third} restores #{first_pub}: +2 ~1 -1 =22"
    row = publication(connection, third)
    assert (row["action"], row["restores_publication"], row["author"]) == ("rollback", first_pub, "tester")
    now = current_features(connection, "checkpoints")
    strip = {"valid_from_pub"}
    assert {k: {f: v for f, v in feat.items() if f not in strip} for k, feat in now.items()} == {
        k: {f: v for f, v in feat.items() if f not in strip} for k, feat in at_first.items()}

    lines = run_cli("layers", "history", "checkpoints").output.strip().splitlines()
    assert [line.split()[0] for line in lines] == [f"#{third}", f"#{second}", f"#{first_pub}"]
    assert "rollback" in lines[0] and f"restores #{first_pub}" in lines[0]


def test_rollback_errors_are_one_line(run_cli, connection, first_pub):
    before = layer_counts(connection)
    one_line_error(run_cli("layers", "rollback", "checkpoints", "999999"), "unknown_publication")
    other = latest_publication(connection, "testing_sites")
    one_line_error(run_cli("layers", "rollback", "checkpoints", str(other)), "unknown_publication")
    unknown = run_cli("layers", "rollback", "no_such_layer", str(first_pub))
    assert unknown.exit_code != 0 and len(unknown.output.strip().splitlines()) == 1
    assert layer_counts(connection) == before


def test_history_of_unknown_layer_is_one_line(run_cli):
    result = run_cli("layers", "history", "no_such_layer")
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1
    assert "no_such_layer" in result.output


# --------------------------------------------------------------------------- dry run and refusals


def test_dry_run_prints_report_and_diff_and_changes_nothing(run_cli, connection, first_pub, tmp_path):
    before, current = layer_counts(connection), current_features(connection, "checkpoints")
    result = run_cli("ingest", str(changed_checkpoints(tmp_path / "chot.csv")), "--layer", "checkpoints",
                     "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "BÁO CÁO NHẬP DỮ LIỆU / INGEST REPORT" in out and "dry run, not published" in out
    for part in ("thêm mới / added: 1", "thay đổi / changed: 1", "xoá / removed: 2",
                 "không đổi / unchanged: 22", "chấp nhận / accepted: 24", "từ chối / rejected: 1",
                 "duplicate_id"):
        assert part in out, part
    assert layer_counts(connection) == before
    assert current_features(connection, "checkpoints") == current


def test_refused_feed_exits_1_and_force_publishes(run_cli, connection, first_pub, tmp_path):
    headers, rows = checkpoint_rows()
    path = write_csv(tmp_path / "chot_it.csv", headers, rows[:10])
    before = layer_counts(connection)
    refused = run_cli("ingest", str(path), "--layer", "checkpoints")
    assert refused.exit_code == 1 and "too_many_removed" in refused.output
    assert layer_counts(connection) == before
    forced = run_cli("ingest", str(path), "--layer", "checkpoints", "--force")
    assert forced.exit_code == 0, forced.output
    assert layer_counts(connection, "checkpoints")["current"] == 10
    assert layer_counts(connection, "checkpoints")["publications"] == 2


def test_feed_without_accepted_rows_exits_1(run_cli, connection, first_pub, tmp_path):
    headers, rows = checkpoint_rows()
    for row in rows:
        row["Vĩ độ"] = row["Kinh độ"] = "0"
    before = layer_counts(connection)
    path = write_csv(tmp_path / "chot_0.csv", headers, rows)
    result = run_cli("ingest", str(path), "--layer", "checkpoints")
    assert result.exit_code == 1 and "no_accepted_rows" in result.output
    assert layer_counts(connection) == before


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kind", BAD)
def test_bad_input_is_one_line_and_non_zero_exit(run_cli, connection, tmp_path, kind):
    path, layer, code = bad_file(tmp_path, kind)
    before = layer_counts(connection)
    one_line_error(run_cli("ingest", str(path), "--layer", layer), code)
    assert layer_counts(connection) == before


def test_unknown_sheet_and_scope_are_one_line(run_cli, tmp_path):
    one_line_error(run_cli("ingest", str(SAMPLES / "xet_nghiem.xlsx"), "--layer", "testing_sites",
                           "--sheet", "Không có"), "unknown_sheet")
    one_line_error(run_cli("ingest", str(SAMPLES / "xet_nghiem.xlsx"), "--layer", "testing_sites",
                           "--scope", "99999"), "unknown_scope")


# --------------------------------------------------------------------------- options


def test_report_json_has_every_data_row(run_cli, tmp_path):
    out = tmp_path / "report.json"
    result = run_cli("ingest", str(SAMPLES / "xet_nghiem.xlsx"), "--layer", "testing_sites", "--dry-run",
                     "--report-json", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    truth = expected("xet_nghiem.xlsx")
    assert data["counts"] == {"rows": truth["data_rows"], "accepted": truth["accepted"],
                              "rejected": truth["rejected"]}
    rows = {r["row"]: r for r in data["rows"]}
    assert sorted(rows) == sorted(r["row"] for r in truth["rows"])
    for want in truth["rows"]:
        got = rows[want["row"]]
        assert {"sheet", "row", "status", "reason", "unit_codes", "lon", "lat"} <= got.keys()
        assert got["sheet"] == "Điểm XN" and got["status"] == want["status"]
        if want["status"] == "rejected":
            assert got["reason"] in REASON_CATEGORIES[want["reason"]] and got["message_en"]
            assert got["lon"] is None and got["unit_codes"] == {}
            continue
        assert got["reason"] is None
        assert got["unit_codes"] == {"province": "74", "district": got["unit_codes"]["district"],
                                     "commune": want["unit_code"]}
        assert isinstance(got["lon"], float) and isinstance(got["lat"], float)
        if "lat" in want:
            assert metres_between(want["lat"], want["lon"], got["lat"], got["lon"]) <= want["tolerance_m"]
    assert {"sheet": "Điểm XN", "row": 48, "reason": "total"} in data["skipped_rows"]


@pytest.mark.parametrize("sheet", ["Dữ liệu", "du lieu", "1"])
def test_sheet_option_picks_the_data_sheet(run_cli, connection, tmp_path, sheet):
    headers = ["Tên cơ sở", "Xã/Phường", "Tọa độ"]
    rows = [[s.name, s.commune, f"{s.lat}, {s.lon}"] for s in SITES]
    notes = [["Tên", "Ghi chú"], ["Bảng này", "chỉ là hướng dẫn"]]  # looks like a table, but is not one
    path = write_xlsx(tmp_path / "hai_trang.xlsx", [("Hướng dẫn", notes), ("Dữ liệu", [headers, *rows])])
    result = run_cli("ingest", str(path), "--layer", "testing_sites", "--sheet", sheet, "--force")
    assert result.exit_code == 0, result.output
    stored = current_features(connection, "testing_sites")
    assert sorted((f["props"]["name"], f["units"]["commune"]) for f in stored.values()) == sorted(
        (s.name, s.unit_code) for s in SITES)


def test_scope_option_limits_the_publication(run_cli, connection, first_pub, tmp_path):
    before = current_features(connection, "checkpoints")
    headers, rows = checkpoint_rows("CKS-007", "CKS-018", "CKS-023", "CKS-024", "CKS-001")
    result = run_cli("ingest", str(write_csv(tmp_path / "tdm.csv", headers, rows)), "--layer", "checkpoints",
                     "--scope", "718")
    assert result.exit_code == 0, result.output
    assert "out_of_scope" in result.output
    row = publication(connection, latest_publication(connection, "checkpoints"))
    assert (row["scope_code"], row["unchanged"], row["rejected"], row["removed"]) == ("718", 4, 1, 0)
    assert current_features(connection, "checkpoints") == before
