"""Statistics (layer ``unit_stats``) through the console: a district official uploads the province's
table, previews it (other districts' rows out_of_scope, the values added and changed), publishes,
sees the public figures change, rolls back; the same rules as features (scope, stale previews,
roles), the audit log, and feed text kept inert."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import text

from tests.ingest.builders import COMMUNES_718, statistics_feed, write_csv
from tests.ingest.test_stats import stored
from tests.portal.console.helpers import make_account, roll_back, sign_in

OFFICIAL = "thong.ke@ttyt.thudaumot.vn"
HIEP_THANH = "25741"
WEEK_OF_HIEP_THANH = 40 + 0 + 5 + 5 + 3 + 0 + 1  # the sample's 10-16/08/2021
D17 = "17/08/2021"


def _upload(client, csrf: str, path, name: str | None = None):
    with open(path, "rb") as handle:
        return client.post(
            "/quan-tri/tai-len",
            data={"csrf_token": csrf, "layer": "unit_stats", "file": (handle, name or path.name)},
            content_type="multipart/form-data",
        )


def _upload_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _publish(client, csrf: str, upload_id: int, **fields) -> None:
    response = client.post(f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": csrf, **fields})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert response.headers["Location"].endswith(f"/quan-tri/tai-len/{upload_id}")  # the job's page
    page = client.get(response.headers["Location"]).get_data(as_text=True)  # the job ran: published
    assert 'id="published-note"' in page and "Đã xuất bản" in page
    assert 'href="/quan-tri/lop/unit_stats"' in page


def _week(client, code: str = HIEP_THANH) -> float:
    """Return a commune's public week total (10-16/08/2021) on Thủ Dầu Một's map page."""
    html = client.get("/map/718?date=2021-08-16").get_data(as_text=True)
    found = re.search(rf'data-code="{code}">[^<]*</a> <span class="muted">([\d,.]+)<', html)
    assert found, "no figure for the commune on /map/718"
    return float(found.group(1).replace(",", ""))


def _latest_publication(connection) -> int:
    return connection.execute(text("SELECT max(id) FROM publication WHERE layer_id = 'unit_stats'")).scalar()


def _section(html: str, marker: str) -> str:
    return html.split(marker, 1)[1].split("</section>")[0]


@pytest.fixture
def official(console, connection):
    """A publisher of Thành phố Thủ Dầu Một (district 718), signed in; its form token."""
    make_account(connection, OFFICIAL, "publisher", "718")
    return sign_in(console, OFFICIAL)


def test_district_official_previews_publishes_and_rolls_back(console, connection, official, tmp_path):
    original = stored(connection)
    assert _week(console) == WEEK_OF_HIEP_THANH
    home = console.get("/quan-tri/").get_data(as_text=True)
    assert '<option value="unit_stats">Số liệu theo đơn vị hành chính</option>' in home
    assert 'href="/quan-tri/lop/unit_stats"' in home

    # The province's whole table, with Hiệp Thành's 16/08 corrected and a new day for every commune.
    feed = statistics_feed(tmp_path / "so_ca_17_08.xlsx", changed={("Hiệp Thành", "16/08/2021"): 11},
                           new_day=(D17, 2))
    upload_id = _upload_id(_upload(console, official, feed))
    html = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    assert '<strong id="rejected-count">25</strong>' in html
    rejected = html.split('class="data rejected"')[1].split("</table>")[0]
    cells = re.findall(r'<tr><td class="wrap"[^>]*>F0 theo xã</td><td class="num"[^>]*>(\d+)</td>'
                       r'<td class="wrap"[^>]*>([^<]*)</td>'
                       r'<td class="wrap value"[^>]*><code>[^<]*</code></td>'
                       r'<td[^>]*><code>([^<]*)</code></td>'
                       r'<td class="wrap message">([^<]*)</td>', rejected)
    assert len(cells) == 25 and {(column, reason) for _, column, reason, _ in cells} == {
        ("Xã/Phường", "out_of_scope")}
    assert {int(row) for row, *_ in cells} == set(range(2, 32)) - {5, 7, 16, 29, 31}
    assert all("nằm ngoài đơn vị được phép cập nhật (Thành phố Thủ Dầu Một)" in m for *_, m in cells)
    assert "Lái Thiêu" in cells[0][3]
    added = _section(html, 'class="change-list added"')
    changed = _section(html, 'class="change-list changed"')
    assert added.count("<code>") == 5 and "Phường Phú Cường" in added
    assert "Ca mắc mới 17/08/2021: <del>—</del> → <ins>2</ins>" in added
    assert "<code>25741</code> Phường Hiệp Thành" in changed
    assert "Ca mắc mới 16/08/2021: <del>1</del> → <ins>11</ins>" in changed
    assert "Tệp số liệu không xóa giá trị nào" in html
    assert stored(connection) == original  # a preview writes nothing

    _publish(console, official, upload_id, legal_ref="15/QĐ-TTYT")
    first = _latest_publication(connection)
    row = connection.execute(text("SELECT scope_code, author, added, changed, removed, unchanged, rejected,"
                                  " legal_ref FROM publication WHERE id = :p"), {"p": first}).one()
    assert tuple(row) == ("718", OFFICIAL, 5, 1, 0, 34, 25, "15/QĐ-TTYT")
    assert _week(console) == WEEK_OF_HIEP_THANH - 1 + 11
    page = console.get("/quan-tri/lop/unit_stats").get_data(as_text=True)
    assert "15/QĐ-TTYT" in page.split('class="data history"')[1]  # "Đã xuất bản": on the job's page
    figures = page.split('class="data figures"')[1].split("</table>")[0]
    assert re.search(r"Phường Hiệp Thành <code>25741</code></td><td>Ca mắc mới</td><td>17/08/2021</td>"
                     r'<td class="num">2</td><td class="num">8</td>', figures)
    assert "Lái Thiêu" not in figures  # only the official's unit

    # A wrong figure, published, then rolled back to the first publication.
    wrong = statistics_feed(tmp_path / "nham.xlsx", communes=COMMUNES_718,
                            changed={("Hiệp Thành", "16/08/2021"): 500}, new_day=(D17, 2))
    _publish(console, official, _upload_id(_upload(console, official, wrong)))
    assert _week(console) == WEEK_OF_HIEP_THANH - 1 + 500
    page = console.get("/quan-tri/lop/unit_stats").get_data(as_text=True)
    assert f'/quan-tri/lop/unit_stats/khoi-phuc/{first}"' in page
    response = roll_back(console, official, "unit_stats", first)
    assert response.status_code == 302
    assert "Đã khôi phục" in console.get("/quan-tri/lop/unit_stats").get_data(as_text=True)
    assert _week(console) == WEEK_OF_HIEP_THANH - 1 + 11

    # A province publisher returns the province to the demo's figures.
    make_account(connection, "tinh@soyte.binhduong.gov.vn", "publisher", "74")
    province = console.application.test_client()
    csrf = sign_in(province, "tinh@soyte.binhduong.gov.vn")
    demo = connection.execute(text("SELECT id FROM publication WHERE layer_id = 'unit_stats'"
                                   " AND author = 'demo' AND scope_code = '74'")).scalar_one()
    assert roll_back(province, csrf, "unit_stats", demo).status_code == 302
    assert _week(console) == WEEK_OF_HIEP_THANH and stored(connection) == original

    events = connection.execute(text("SELECT action, target, details FROM audit_event WHERE actor = :a"
                                     " AND action IN ('upload', 'publish', 'rollback') ORDER BY id"),
                                {"a": OFFICIAL}).all()
    assert [e.action for e in events] == ["upload", "publish", "upload", "publish", "rollback"]
    assert events[0].target == f"upload:{upload_id}" and events[0].details["layer"] == "unit_stats"
    assert (events[0].details["accepted"], events[0].details["rejected"]) == (5, 25)
    assert events[1].target == f"publication:{first}" and events[1].details["unit"] == "vn2021/718"
    assert events[1].details["diff"] == {"added": 5, "changed": 1, "removed": 0, "unchanged": 34}
    assert events[4].details["restores"] == first and events[4].details["diff"]["changed"] == 1


def test_district_official_cannot_roll_back_the_province(console, connection, official):
    demo = connection.execute(text("SELECT id FROM publication WHERE layer_id = 'unit_stats'"
                                   " AND author = 'demo' AND scope_code = '74'")).scalar_one()
    page = console.get("/quan-tri/lop/unit_stats").get_data(as_text=True)
    assert f"/khoi-phuc/{demo}\"" not in page
    assert console.get(f"/quan-tri/lop/unit_stats/khoi-phuc/{demo}").status_code == 403
    response = roll_back(console, official, "unit_stats", demo)
    assert response.status_code == 403


def test_a_statistics_preview_goes_stale_when_they_are_published(console, connection, official, tmp_path):
    first = _upload_id(_upload(console, official, statistics_feed(tmp_path / "a.xlsx", new_day=(D17, 1))))
    second = _upload_id(_upload(console, official, statistics_feed(tmp_path / "b.xlsx", new_day=(D17, 2))))
    _publish(console, official, first)
    assert "đã được cập nhật sau" in console.get(f"/quan-tri/tai-len/{second}").get_data(as_text=True)
    stale = console.post(f"/quan-tri/tai-len/{second}/xuat-ban", data={"csrf_token": official})
    assert stale.status_code == 409
    assert stored(connection)[(HIEP_THANH, "new_cases", date(2021, 8, 17))] == 1


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_roles_below_publisher(console, connection, tmp_path, role):
    before = _latest_publication(connection)
    make_account(connection, f"{role}@ttyt.thudaumot.vn", role, "718")
    csrf = sign_in(console, f"{role}@ttyt.thudaumot.vn")
    response = _upload(console, csrf, statistics_feed(tmp_path / "a.xlsx", new_day=(D17, 1)))
    if role == "viewer":
        assert response.status_code == 403
        return
    upload_id = _upload_id(response)
    response = console.post(f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": csrf})
    assert response.status_code == 403
    assert _latest_publication(connection) == before


def test_statistics_feed_text_stays_inert(console, connection, official, tmp_path):
    feed = write_csv(tmp_path / "doc_hai.csv", ["Huyện", "Xã/Phường", "Ca mới 16/08/2021"], [
        ["Thủ Dầu Một", "Hiệp Thành", 3],
        ["<script>alert(1)</script>", "<img src=x onerror=window.__xss=1>", 1],
        ["Thủ Dầu Một", '=HYPERLINK("http://evil.example","x")', 2],
    ])
    upload_id = _upload_id(_upload(console, official, feed, name="<b>so_ca</b>.csv"))
    html = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert(1)" not in html and "<b>so_ca" not in html
    # The row is refused for its district column (a parent naming nothing), quoted escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "unknown_unit" in html
    csv_text = console.get(f"/quan-tri/tai-len/{upload_id}/bao-cao.csv").get_data().decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(csv_text)) for cell in row]
    assert any("HYPERLINK" in c for c in cells) and not any(c.startswith(("=", "+", "@")) for c in cells)


def test_a_national_feed_counts_other_provinces_and_stays_publishable(console, connection, tmp_path):
    make_account(connection, "so.y.te@binhduong.gov.vn", "publisher", "74")
    csrf = sign_in(console, "so.y.te@binhduong.gov.vn")
    feed = write_csv(tmp_path / "ca_nuoc.csv", ["tinh", "huyen", "xa", "ngay", "Ca mới"], [
        ["Bình Dương", "Thủ Dầu Một", "Hiệp Thành", D17, 4],
        *([["Hà Nội", "Ba Đình", "Phúc Xá", f"1{d}/08/2021", d] for d in range(3)]),
        ["TP. Hồ Chí Minh", "Quận 7", "Phú Mỹ", D17, 5],  # Phú Mỹ is also a ward of Thủ Dầu Một
    ])
    html = console.get(f"/quan-tri/tai-len/{_upload_id(_upload(console, csrf, feed))}").get_data(as_text=True)
    assert '<strong id="rejected-count">0</strong>' in html
    assert "Thành phố Hà Nội: <strong>3</strong>" in html
    assert "Thành phố Hồ Chí Minh: <strong>1</strong>" in html
    assert 'id="publish"' in html  # nothing to fix before publishing
