"""Shared helpers for the console and feed-API tests: accounts, tokens, CSRF, feeds, places."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import text

from epimap.db import session_scope
from officials import accounts
from officials.accounts import Principal, principal_of
from officials.audit import Where
from tests.ingest.builders import write_csv

PASSWORD = "mật khẩu thử nghiệm 2021"
ROLES = ("viewer", "editor", "publisher", "admin")
SCOPES = ("74", "718", "25741")  # Bình Dương ⊃ Thủ Dầu Một ⊃ Phường Hiệp Thành
# Which of the three places (A in 25741, B elsewhere in 718, C outside 718) each scope holds.
INSIDE = {"74": {"A", "B", "C"}, "718": {"A", "B"}, "25741": {"A"}}
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
HERE = Where(ip="203.0.113.7", user_agent="pytest")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_account(bind, email: str, role: str, scope: str, password: str = PASSWORD) -> Principal:
    with session_scope(bind) as session:
        account = accounts.create_account(
            session, email, password, role, "vn2021", scope, by=None, actor="test"
        )
    return principal_of(account)


def make_token(bind, role: str, scope: str) -> str:
    """Return a fresh API token of a role and unit (its creator: a province admin)."""
    email = f"token-maker-{role}-{scope}@test.vn"
    with session_scope(bind) as session:
        creator = accounts.get_account(session, email)
    creator = principal_of(creator) if creator else make_account(bind, email, "admin", "74")
    with session_scope(bind) as session:
        _token, raw = accounts.create_token(session, creator, f"{role} {scope}", role, scope, HERE)
    return raw


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no form token on the page"
    return found.group(1)


def sign_in(client, email: str, password: str = PASSWORD) -> str:
    """Sign a test client in through the form; return the new session's form token."""
    token = csrf_of(client.get("/quan-tri/dang-nhap").get_data(as_text=True))
    response = client.post(
        "/quan-tri/dang-nhap", data={"csrf_token": token, "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return csrf_of(client.get("/quan-tri/").get_data(as_text=True))


@dataclass(frozen=True)
class Place:
    """A point inside a commune, and one current testing site there."""

    key: str
    commune: str
    lat: float
    lon: float
    site: str


def places(connection) -> dict[str, Place]:
    """A: inside Phường Hiệp Thành (25741); B: in Thủ Dầu Một (718) outside it; C: outside 718."""
    found = {}
    for key, condition in (
        ("A", "a.code = '25741'"),
        ("B", "a.parent_code = '718' AND a.code <> '25741'"),
        ("C", "a.parent_code = '724'"),
    ):
        row = connection.execute(
            text(
                "SELECT a.code, ST_Y(ST_PointOnSurface(a.geom)) AS lat,"  # noqa: S608 - constant conditions
                " ST_X(ST_PointOnSurface(a.geom)) AS lon,"
                " (SELECT f.source_id FROM feature f WHERE f.layer_id = 'testing_sites'"
                "  AND f.valid_to_pub IS NULL AND f.units ->> 'commune' = a.code"
                " ORDER BY f.source_id LIMIT 1) AS site"
                " FROM admin_unit a WHERE a.boundary_set = 'vn2021' AND a.level = 'commune' AND "
                + condition
                + " AND EXISTS (SELECT 1 FROM feature f WHERE f.layer_id = 'testing_sites'"
                "  AND f.valid_to_pub IS NULL AND f.units ->> 'commune' = a.code) ORDER BY a.code LIMIT 1"
            )
        ).one()
        found[key] = Place(key, row.code, round(row.lat, 6), round(row.lon, 6), row.site)
    return found


def pharmacy_feed(path: Path, spots: dict[str, Place], keys: str = "ABC", name_of=None) -> Path:
    """Write a pharmacies feed with one row at each place named in ``keys``."""
    rows = [
        {
            "Mã": f"NT-{k}",
            "Tên nhà thuốc": (name_of or (lambda key: f"Nhà thuốc {key}"))(k),
            "Vĩ độ": str(spots[k].lat),
            "Kinh độ": str(spots[k].lon),
            "Giờ mở cửa": "07:00-21:00",
        }
        for k in keys
    ]
    return write_csv(path, ["Mã", "Tên nhà thuốc", "Vĩ độ", "Kinh độ", "Giờ mở cửa"], rows)


_BASE = re.compile(r'name="base" value="(\d*)"')


def roll_back(
    client,
    csrf: str,
    layer: str,
    publication: int,
    *,
    note: str = "Số liệu nhập nhầm",
    legal_ref: str = "12/QĐ-SYT",
    confirm: bool = True,
):
    """Roll a layer back as an official does: open the rollback's preview, then confirm it with a reason."""
    preview = client.get(f"/quan-tri/lop/{layer}/khoi-phuc/{publication}")
    found = _BASE.search(preview.get_data(as_text=True)) if preview.status_code == 200 else None
    data = {
        "csrf_token": csrf,
        "publication": str(publication),
        "base": found.group(1) if found else "",
        "note": note,
        "legal_ref": legal_ref,
        **({"confirm": "1"} if confirm else {}),
    }
    return client.post(f"/quan-tri/lop/{layer}/khoi-phuc", data=data)
