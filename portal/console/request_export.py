"""The dispatch queue as an XLSX workbook for officials in scope (personal data included).

Every string goes through :func:`ingest.sheets.xlsx_cell` (plain text, then
:func:`ingest.values.neutralise_formula`), so a citizen's description can never run as a formula.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from dispatch import store
from ingest.sheets import Cell, workbook_bytes
from layers.catalog import Service
from portal.console.forms import local_time

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ("Mã/Ref", "Loại/Kind", "Trạng thái/Status", "Quá hạn/Overdue", "Xã phường/Commune", "Mã xã/Code",
          "Tổ xử lý/Team", "Giao cho/Assignee", "Điện thoại/Phone", "Họ tên/Name", "Địa chỉ/Address",
          "Kinh độ/Lon", "Vĩ độ/Lat", "Mô tả/Description", "Nguồn/Source", "Tiếp nhận/Received",
          "Hạn giao/Due", "Giải quyết/Resolved", "Đóng/Closed", "Trùng với/Repeats", "Mẫu/Demo")


def rows_of(requests: Sequence[store.Request], names: dict[str, str], services: dict[str, Service],
            now: datetime, lang: str) -> Iterator[Sequence[Cell]]:
    """Yield the export's header and one line per request."""
    yield HEADER
    for r in requests:
        service = services.get(r.kind)
        yield (r.ref, service.title(lang) if service else r.kind, r.status, "x" if r.overdue(now) else "",
               names.get(r.commune_code, r.commune_code), r.commune_code, names.get(r.team_code, r.team_code),
               r.assignee, r.phone, r.name, r.address, r.lon, r.lat, r.description, r.source,
               local_time(r.created_at), local_time(r.assign_due_at), local_time(r.resolved_at),
               local_time(r.closed_at), r.duplicate_of, "x" if r.demo else "")


def export_workbook(requests: Sequence[store.Request], names: dict[str, str], services: dict[str, Service],
                    now: datetime, lang: str) -> bytes:
    """Return the requests as an XLSX workbook of one sheet."""
    return workbook_bytes([("Yeu cau", rows_of(requests, names, services, now, lang))])
