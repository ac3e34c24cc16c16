"""Shared helpers for the console's dispatch tests: two communes' requests, a fixed clock, pages."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image
from sqlalchemy import text

from officials import accounts
from tests.dispatch.helpers import NOW, PHONE, file_request

HIEP_THANH = "25741"  # Phường Hiệp Thành, Thủ Dầu Một (718)
OTHER = "25744"  # another commune of Thủ Dầu Một


@dataclass(frozen=True)
class Two:
    """One request in Hiệp Thành and one (same caller) in another commune of the district."""

    mine: object
    theirs: object


def commune_name(bind, code: str) -> str:
    return bind.execute(text("SELECT name FROM admin_unit WHERE boundary_set = 'vn2021' AND code = :c"),
                        {"c": code}).scalar_one()


def a_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 20, 20)).save(out, "PNG")
    return out.getvalue()


def two_requests(bind) -> Two:
    """File a food request in Hiệp Thành (with a photo) and a medical one elsewhere, same phone."""
    mine = file_request(bind, description="=HYPERLINK(\"http://x\") gia đình cần gạo", name="Nguyễn Văn An",
                        address="12 Đường 30/4", photo=a_png())
    theirs = file_request(bind, kind="medical", description="Người già khó thở",
                          commune=commune_name(bind, OTHER), name="Trần Thị Bình", address="7 Lê Lợi")
    return Two(mine, theirs)


def freeze(monkeypatch, at=NOW) -> None:
    """Set the console's clock (sessions, SLA) to a fixed time."""
    monkeypatch.setattr(accounts, "now", lambda: at)


__all__ = ["HIEP_THANH", "NOW", "OTHER", "PHONE", "Two", "commune_name", "freeze", "two_requests"]
