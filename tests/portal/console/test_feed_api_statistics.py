"""The feed API for statistics (``POST /api/layers/unit_stats/feeds``): a district's token previews the
province's table (other districts out_of_scope, the same JSON report as features), publishes its own
rows, the public figures change, and a rollback in the console puts them back."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.ingest.builders import COMMUNES_718, statistics_feed
from tests.ingest.test_stats import stored
from tests.jobs import job_outcome
from tests.portal.console.helpers import make_account, make_token, roll_back, sign_in

D17 = "17/08/2021"
REPORT_KEYS = {"file", "layer", "sha256", "publication", "dry_run", "refused", "counts", "diff",
               "ignored_columns", "skipped_rows", "rows", "upload", "other_provinces"}


def _post(client, token: str, path, query: str = "", **fields):
    headers = {"Authorization": f"Bearer {token}"}
    with open(path, "rb") as handle:
        accepted = client.post(f"/api/layers/unit_stats/feeds{query}", headers=headers,
                               data={"file": (handle, path.name), **fields},
                               content_type="multipart/form-data")
    return job_outcome(client, accepted, headers)


def _week_of_hiep_thanh(client) -> float:
    html = client.get("/map/718?date=2021-08-16").get_data(as_text=True)
    return float(re.search(r'data-code="25741">[^<]*</a> <span class="muted">([\d,.]+)<', html).group(1))


def test_a_dry_run_reports_other_districts_as_out_of_scope(console, connection, tmp_path):
    before = stored(connection)
    token = make_token(connection, "editor", "718")
    response = _post(console, token, statistics_feed(tmp_path / "so_ca.xlsx", new_day=(D17, 2)))
    assert response.status_code == 200, response.json
    report = response.json
    assert set(report) == REPORT_KEYS and report["upload"]
    assert (report["layer"], report["dry_run"], report["publication"], report["refused"]) == (
        "unit_stats", True, None, None)
    assert report["counts"] == {"rows": 30, "accepted": 5, "rejected": 25}
    assert report["diff"] == {"added": 5, "changed": 0, "removed": 0, "unchanged": 35}
    rejected = [r for r in report["rows"] if r["status"] == "rejected"]
    assert {(r["sheet"], r["column"], r["reason"]) for r in rejected} == {
        ("F0 theo xã", "Xã/Phường", "out_of_scope")}
    assert all(r["row"] and "nằm ngoài" in r["message_vi"] and "outside" in r["message_en"] for r in rejected)
    assert sorted(r["unit_codes"]["commune"] for r in report["rows"] if r["status"] == "accepted") == [
        "25741", "25747", "25753", "25765", "25924"]
    assert stored(connection) == before


def test_a_token_publishes_and_a_rollback_restores(console, connection, tmp_path):
    original, week = stored(connection), _week_of_hiep_thanh(console)
    token = make_token(connection, "publisher", "718")
    whole = _post(console, token, statistics_feed(tmp_path / "so_ca.xlsx", new_day=(D17, 2)),
                  query="?publish=1")
    assert whole.status_code == 422 and whole.json["report"]["counts"]["rejected"] == 25
    assert stored(connection) == original

    feed = statistics_feed(tmp_path / "tdm.xlsx", communes=COMMUNES_718,
                           changed={("Hiệp Thành", "16/08/2021"): 11}, new_day=(D17, 2))
    first = _post(console, token, feed, query="?publish=1", legal_ref="15/QĐ-TTYT")
    assert first.status_code == 200, first.json
    assert set(first.json) == REPORT_KEYS and first.json["diff"] == {
        "added": 5, "changed": 1, "removed": 0, "unchanged": 34}
    publication = first.json["publication"]
    row = connection.execute(text("SELECT layer_id, scope_code, author, legal_ref FROM publication"
                                  " WHERE id = :p"), {"p": publication}).one()
    assert (row.layer_id, row.scope_code, row.legal_ref) == ("unit_stats", "718", "15/QĐ-TTYT")
    assert "(token #" in row.author
    assert _week_of_hiep_thanh(console) == week - 1 + 11
    at_first = stored(connection)

    feed = statistics_feed(tmp_path / "nham.xlsx", communes=COMMUNES_718,
                           changed={("Hiệp Thành", "16/08/2021"): 500})
    wrong = _post(console, token, feed, query="?publish=1")
    assert wrong.status_code == 200 and wrong.json["diff"]["changed"] == 1
    assert _week_of_hiep_thanh(console) == week - 1 + 500

    make_account(connection, "pub718@ttyt.thudaumot.vn", "publisher", "718")
    csrf = sign_in(console, "pub718@ttyt.thudaumot.vn")
    response = roll_back(console, csrf, "unit_stats", publication)
    assert response.status_code == 302
    assert _week_of_hiep_thanh(console) == week - 1 + 11 and stored(connection) == at_first

    actions = connection.execute(text("SELECT action, target FROM audit_event WHERE actor = :a ORDER BY id"),
                                 {"a": row.author}).all()
    assert [a.action for a in actions] == ["upload", "upload", "publish", "upload", "publish"]
    assert actions[2].target == f"publication:{publication}"
    rollback = connection.execute(text("SELECT details FROM audit_event WHERE action = 'rollback'"
                                       " ORDER BY id DESC LIMIT 1")).scalar()
    assert rollback["restores"] == publication and rollback["layer"] == "unit_stats"


def test_a_viewer_token_is_403(console, connection, tmp_path):
    token = make_token(connection, "viewer", "718")
    assert _post(console, token, statistics_feed(tmp_path / "a.xlsx")).status_code == 403
    editor = make_token(connection, "editor", "718")
    assert _post(console, editor, statistics_feed(tmp_path / "a.xlsx"), query="?publish=1").status_code == 403
