"""The upload's page while its job is queued or under way: progress, a refresh without JavaScript, JSON."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.jobs import run_jobs
from tests.portal.console.helpers import make_account, pharmacy_feed, sign_in


@pytest.fixture
def editor(console, connection):
    make_account(connection, "ed@soyte.vn", "editor", "74")
    console.run_jobs_after = False  # no worker: the jobs stay queued until run_jobs
    return sign_in(console, "ed@soyte.vn")


def _upload(console, csrf, path) -> int:
    with path.open("rb") as handle:
        response = console.post("/quan-tri/tai-len", data={"csrf_token": csrf, "layer": "pharmacies",
                                                          "file": (handle, path.name)},
                                content_type="multipart/form-data")
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_upload_request_only_queues_and_the_page_follows_the_job(console_app, console, connection,
                                                                    editor, spots, tmp_path):
    upload_id = _upload(console, editor, pharmacy_feed(tmp_path / "nha_thuoc.csv", spots))
    stored = connection.execute(text("SELECT status, report, job_phase FROM feed_upload WHERE id = :i"),
                                {"i": upload_id}).one()
    assert tuple(stored) == ("queued", None, "queued")  # nothing was read by the request
    assert connection.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"
                                   " AND task_name = 'epimap.preview_upload'")).scalar() == 1

    page = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page  # follows without JavaScript
    assert "Đang chờ đến lượt" in page and 'id="job-percent">0<' in page and "console-job.js" in page
    assert f'href="/quan-tri/tai-len/{upload_id}"' in page  # a reload link
    english = console.get(f"/quan-tri/tai-len/{upload_id}?lang=en").get_data(as_text=True)
    assert "Waiting its turn" in english and "Rows read" in english
    state = console.get(f"/quan-tri/tai-len/{upload_id}/tien-do.json").json
    assert state["done"] is False and state["phase"] == "queued" and state["percent"] == 0

    assert run_jobs(console_app) == 1
    state = console.get(f"/quan-tri/tai-len/{upload_id}/tien-do.json").json
    assert state["done"] is True and state["phase"] == "done" and state["percent"] == 100
    assert state["status"] == "previewed" and state["error"] is None
    page = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and 'id="preview-data"' in page  # the preview


def test_a_feed_the_job_cannot_read_shows_why_in_both_languages(console_app, console, connection, editor,
                                                                 tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    upload_id = _upload(console, editor, path)
    run_jobs(console_app)
    page = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    assert 'id="job-error"' in page and 'http-equiv="refresh"' not in page
    english = console.get(f"/quan-tri/tai-len/{upload_id}?lang=en").get_data(as_text=True)
    assert 'id="job-error"' in english
    error = connection.execute(text("SELECT status, job_error FROM feed_upload WHERE id = :i"),
                               {"i": upload_id}).one()
    assert error.status == "failed" and error.job_error["code"] == "empty_file"
    assert error.job_error["vi"] in page and error.job_error["en"] in english
    assert connection.execute(text("SELECT action FROM audit_event ORDER BY id DESC LIMIT 1")).scalar() \
        == "upload_failed"


def test_a_large_feed_is_accepted_at_once_and_read_by_its_job_only(console, connection, tmp_path):
    """The finding: a 200,000-row CSV under the size limit timed the web worker out; now it is queued."""
    from tests.portal.console.helpers import make_token

    console.run_jobs_after = False
    path = tmp_path / "lon.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("Mã,Tên nhà thuốc,Vĩ độ,Kinh độ,Giờ mở cửa,Địa chỉ\n")
        for i in range(200_000):
            lat, lon = 10.98 + (i % 500) * 0.0001, 106.65 + (i // 500) * 0.0001
            out.write(f"NT-{i:06d},Nhà thuốc số {i} của phường Hiệp Thành,{lat:.6f},{lon:.6f},07:00-21:00,"
                      f"Số {i} đường Yersinia phường Hiệp Thành\n")
    assert 25 * 2**20 < path.stat().st_size < 50 * 2**20
    headers = {"Authorization": f"Bearer {make_token(connection, 'publisher', '74')}"}
    started = time.monotonic()
    with path.open("rb") as handle:
        accepted = console.post("/api/layers/pharmacies/feeds?publish=1", headers=headers,
                                data={"file": (handle, path.name)}, content_type="multipart/form-data")
    assert time.monotonic() - started < 10  # stored and queued: nothing near gunicorn's 30 s
    assert accepted.status_code == 202 and accepted.json["phase"] == "queued"
    running = console.get(accepted.headers["Location"], headers=headers)
    assert running.status_code == 202 and running.json["done"] is False and running.headers["Retry-After"]
    assert connection.execute(text("SELECT report FROM feed_upload WHERE id = :i"),
                              {"i": accepted.json["upload"]}).scalar() is None  # not read by the request
