"""A Nghệ An publisher uploads statistics written with 2021 communes: the preview notes each carried
row (Vietnamese, English on the switch), and publishing puts the sums on the 2025 wards."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from epimap.db import session_scope
from officials import accounts
from tests.ingest.builders import write_xlsx
from tests.portal.console.helpers import PASSWORD, sign_in
from tests.portal.console.test_console_statistics import _publish, _upload, _upload_id

OFFICIAL = "thong.ke@cdc.nghean.vn"


def test_the_preview_notes_each_row_carried_to_a_2025_ward(console, connection, tmp_path):
    with session_scope(connection) as session:
        accounts.create_account(session, OFFICIAL, PASSWORD, "publisher", "vn2025", "40", by=None,
                                actor="test")
    csrf = sign_in(console, OFFICIAL)
    feed = write_xlsx(tmp_path / "f0_vinh_2021.xlsx", [("F0 theo xã", [
        ["Xã/Phường", "Huyện", "Ca mới 10/08/2021"],
        ["Phường Hưng Dũng", "Thành phố Vinh", 3],
        ["Phường Bến Thủy", "Thành phố Vinh", 5],
        ["16663", "", 2],  # Phường Đông Vĩnh, by its 2021 code
    ])])
    upload_id = _upload_id(_upload(console, csrf, feed))
    html = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    warnings = html.split("Cảnh báo (3)")[1].split("</table>")[0]
    assert ('<td class="num">2</td><td class="wrap">Xã/Phường</td><td><code>carried_2021</code></td>'
            '<td class="wrap">Phường Hưng Dũng (2021) → Phường Trường Vinh (2025)</td>') in warnings
    assert "Phường Đông Vĩnh (2021) → Phường Thành Vinh (2025)" in warnings
    english = console.get(f"/quan-tri/tai-len/{upload_id}?lang=en").get_data(as_text=True)
    assert "Phường Bến Thủy (2021) carried to Phường Trường Vinh (2025)" in english
    console.get(f"/quan-tri/tai-len/{upload_id}?lang=vi")

    _publish(console, csrf, upload_id)
    values = connection.execute(text(
        "SELECT unit_code, value FROM unit_stat WHERE boundary_set = 'vn2025' AND metric = 'new_cases'"
        " AND day = :d"), {"d": date(2021, 8, 10)}).all()
    assert sorted(tuple(v) for v in values) == [("16681", 2.0), ("16690", 8.0)]
