"""Safe publishing in the console (issue 16): a file for another layer is named and stopped, with a
way to switch layer."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.ingest.builders import NEW_POINT, SAMPLES, checkpoint, checkpoint_rows, layer_counts, write_csv
from tests.portal.console.helpers import csrf_of, make_account, sign_in

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
