"""Safe publishing in the console (issue 16): a file for another layer is named and stopped, with a
way to switch layer."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import text

from officials import publishing
from tests.ingest.builders import NEW_POINT, SAMPLES, checkpoint, checkpoint_rows, layer_counts, write_csv
from tests.portal.console.helpers import HERE, csrf_of, make_account, roll_back, sign_in

CHECKPOINTS_FILE = SAMPLES / "chot_kiem_soat.csv"


def _upload(client, csrf: str, path, layer: str):
    with open(path, "rb") as handle:
        return client.post(
            "/quan-tri/tai-len",
            data={"csrf_token": csrf, "layer": layer, "file": (handle, path.name)},
            content_type="multipart/form-data",
        )


def _upload_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.fixture
def publisher(console, connection):
    make_account(connection, "pub@soyte.vn", "publisher", "74")
    return sign_in(console, "pub@soyte.vn")


def test_a_checkpoints_file_offered_as_testing_sites_is_named_and_stopped(console, connection, publisher):
    before = layer_counts(connection, "testing_sites")
    upload_id = _upload_id(_upload(console, publisher, CHECKPOINTS_FILE, "testing_sites"))
    html = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    error = re.search(r'id="job-error">(.*?)</p>', html, re.S).group(1)
    assert "Chốt kiểm soát và rào chắn" in error and "Điểm xét nghiệm" in error
    assert 'id="publish"' not in html  # stopped: nothing to publish from
    assert layer_counts(connection, "testing_sites") == before
    switch = re.search(r'<form method="post" action="([^"]+/doi-lop)"', html).group(1)
    answer = console.post(switch, data={"csrf_token": csrf_of(html), "layer": "checkpoints"})
    new_id = _upload_id(answer)
    assert new_id != upload_id
    page = console.get(f"/quan-tri/tai-len/{new_id}").get_data(as_text=True)
    assert 'id="job-error"' not in page and 'id="publish"' in page
    assert "Chốt kiểm soát và rào chắn" in page  # the preview is of the checkpoints layer now


PNG = bytes.fromhex("89504E470D0A1A0A0000000D49484452") + bytes(200)


def test_an_image_sent_as_a_workbook_is_named_and_the_official_stays_in_the_console(
    console, publisher, tmp_path
):
    path = tmp_path / "xet_nghiem.xlsx"
    path.write_bytes(PNG)
    html = console.get(_upload(console, publisher, path, "testing_sites").headers["Location"]).get_data(
        as_text=True
    )
    error = re.search(r'id="job-error">(.*?)</p>', html, re.S).group(1)
    assert "một ảnh PNG, không phải tệp Excel" in error
    form = html.split('class="stack upload-form"')[1].split("</form>")[0]  # upload again from here
    assert 'name="file"' in form and '<option value="testing_sites" selected>' in form


def test_a_feed_removing_most_sites_asks_a_worded_confirmation_never_for_force(
    console, connection, publisher, tmp_path
):
    headers, rows = checkpoint_rows("CKS-001", "CKS-002")
    upload_id = _upload_id(
        _upload(console, publisher, write_csv(tmp_path / "few.csv", headers, rows), "checkpoints")
    )
    current = connection.execute(
        text("SELECT count(*) FROM feature WHERE layer_id = 'checkpoints' AND valid_to_pub IS NULL")
    ).scalar()
    html = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    removed = int(re.search(r'class="removed">[^<]*<strong>(\d+)</strong>', html).group(1))
    assert removed > current / 2
    label = html.split('class="check confirm-removal"')[1].split("</label>")[0]
    assert f"xóa {removed} trên {current} điểm hiện có" in label and 'name="force"' in label
    assert "--force" not in html
    console.post(f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": publisher})
    refused = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    assert 'id="job-error"' in refused and "--force" not in refused
    assert f"{removed} trên {current}" in refused


def test_rejected_rows_show_the_offending_value(console, publisher, tmp_path):
    headers, rows = checkpoint_rows()
    rows.append(checkpoint("CKS-090", "Chốt Sai", 91.5, NEW_POINT[1]))  # no latitude is 91.5
    rows.append(checkpoint("CKS-091", "Chốt Xa", 21.0285, 105.8542))  # Hà Nội: outside the province
    upload_id = _upload_id(
        _upload(console, publisher, write_csv(tmp_path / "chot.csv", headers, rows), "checkpoints")
    )
    html = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    rejected = html.split('class="data rejected"')[1].split("</table>")[0]
    cells = re.findall(r'<td class="wrap value"[^>]*>(.*?)</td>', rejected, re.S)
    assert "<code>91.5</code>" in cells
    assert "<code>CKS-003</code>" in cells  # the sample repeats CKS-003: the id repeated
    assert "<code>21.0285, 105.8542</code>" in cells  # where the row outside the province lies
    report = console.get(f"/quan-tri/tai-len/{upload_id}/bao-cao.csv").get_data(as_text=True)
    assert report.splitlines()[0].rstrip().endswith(",value") and "91.5" in report


def test_publications_are_numbered_per_layer(console, connection, publisher):
    ids = (
        connection.execute(text("SELECT id FROM publication WHERE layer_id = 'checkpoints' ORDER BY id"))
        .scalars()
        .all()
    )
    assert ids and ids[-1] != len(ids)  # the global id is not the layer's count (other layers came first)
    html = console.get("/quan-tri/lop/checkpoints").get_data(as_text=True)
    shown = re.findall(r'<td class="num pub-number">(\d+)</td>', html)
    assert shown == [str(n) for n in range(len(ids), 0, -1)]
    home = console.get("/quan-tri/").get_data(as_text=True)
    row = home.split('href="/quan-tri/lop/checkpoints"')[1].split("</tr>")[0]
    assert f"#{len(ids)} " in row and f"#{ids[-1]} " not in row


def _latest(connection, layer: str = "testing_sites"):
    return connection.execute(
        text(
            "SELECT id, action, restores_publication, note, legal_ref FROM publication"
            " WHERE layer_id = :l ORDER BY id DESC LIMIT 1"
        ),
        {"l": layer},
    ).one()


def _edited(connection, spots, hours: str) -> int:
    """Publish an edit of place A's testing site (as a province publisher); return the demo's publication."""
    before = _latest(connection).id
    editor = make_account(connection, f"edit-{before}@soyte.vn", "publisher", "74")
    publishing.edit_feature(connection, editor, "testing_sites", spots["A"].site, {"hours": hours}, HERE)
    return before


def test_a_rollback_is_previewed_then_confirmed_with_a_reason_and_a_legal_reference(
    console, connection, publisher, spots
):
    target = _edited(connection, spots, "giờ sai")
    history = console.get("/quan-tri/lop/testing_sites").get_data(as_text=True)
    assert f'href="/quan-tri/lop/testing_sites/khoi-phuc/{target}"' in history
    assert 'name="publication"' not in history  # no one-click rollback any more
    published = _latest(connection).id

    page = console.get(f"/quan-tri/lop/testing_sites/khoi-phuc/{target}").get_data(as_text=True)
    assert _latest(connection).id == published  # a preview publishes nothing
    assert (
        '<strong id="rollback-changed">1</strong>' in page
        and '<strong id="rollback-removed">0</strong>' in page
    )
    changed = page.split('class="change-list changed"')[1].split("</section>")[0]
    assert spots["A"].site in changed and "giờ sai" in changed
    data = json.loads(unescape(re.search(r'id="preview-data">(.*?)</script>', page, re.S).group(1)))
    assert [len(data["changes"][k]) for k in ("added", "changed", "removed")] == [0, 1, 0]
    form = page.split('class="stack rollback-form"')[1].split("</form>")[0]
    assert re.search(r'name="note"[^>]*required', form) and re.search(r'name="legal_ref"[^>]*required', form)
    confirm = form.split('class="check confirm-rollback"')[1].split("</label>")[0]
    assert 'name="confirm"' in confirm and "required" in confirm and "sửa 1, xóa 0" in confirm

    unconfirmed = roll_back(console, publisher, "testing_sites", target, confirm=False)
    assert unconfirmed.status_code == 400 and 'id="rollback-error"' in unconfirmed.get_data(as_text=True)
    assert roll_back(console, publisher, "testing_sites", target, legal_ref="").status_code == 400
    assert roll_back(console, publisher, "testing_sites", target, note="").status_code == 400
    assert _latest(connection).id == published

    done = roll_back(console, publisher, "testing_sites", target, note="Giờ nhập nhầm", legal_ref="77/QĐ-SYT")
    assert done.status_code == 302
    latest = _latest(connection)
    assert (latest.action, latest.restores_publication, latest.note, latest.legal_ref) == (
        "rollback",
        target,
        "Giờ nhập nhầm",
        "77/QĐ-SYT",
    )
    event = connection.execute(
        text("SELECT details FROM audit_event WHERE action = 'rollback' ORDER BY id DESC LIMIT 1")
    ).scalar_one()
    assert (
        event["legal_ref"] == "77/QĐ-SYT" and event["note"] == "Giờ nhập nhầm" and event["restores"] == target
    )
    history = console.get("/quan-tri/lop/testing_sites").get_data(as_text=True)
    assert "77/QĐ-SYT" in history.split('class="data history"')[1]


def test_a_rollback_previewed_before_another_publication_is_refused(console, connection, publisher, spots):
    target = _edited(connection, spots, "giờ một")
    page = console.get(f"/quan-tri/lop/testing_sites/khoi-phuc/{target}").get_data(as_text=True)
    base = re.search(r'name="base" value="(\d+)"', page).group(1)
    _edited(connection, spots, "giờ hai")  # published after the preview
    published = _latest(connection).id
    stale = console.post(
        "/quan-tri/lop/testing_sites/khoi-phuc",
        data={
            "csrf_token": publisher,
            "publication": str(target),
            "base": base,
            "note": "x",
            "legal_ref": "1/QĐ",
            "confirm": "1",
        },
    )
    assert stale.status_code == 409 and _latest(connection).id == published
