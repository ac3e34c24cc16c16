"""Shared helpers for the citizens' doors tests: the form's token, a valid form, a sent request."""

from __future__ import annotations

import io
import re

from PIL import Image

from dispatch import store
from tests.portal.console.helpers import csrf_of

CODE = re.compile(r'id="req-code">([A-Z]{1,4}-[2-9A-Z]{4}-[0-9]{2})<')


def form_token(client, path: str = "/gui-yeu-cau") -> str:
    """Open the form and return its form token."""
    return csrf_of(client.get(path).get_data(as_text=True))


def valid_form(**fields: object) -> dict[str, object]:
    """Return a form a citizen may send: food, Phường Hiệp Thành by name, consent given."""
    values: dict[str, object] = {"kind": "food", "description": "Gia đình 4 người cần gạo và sữa",
                                 "commune": "Phường Hiệp Thành", "address": "", "phone": "0912 345 678",
                                 "name": "", "consent": "1"}
    values.update(fields)
    return {key: value for key, value in values.items() if value is not None}


def send(client, **fields: object):
    """Send the form (a fresh token) and return the answer, redirects not followed."""
    data = {"csrf_token": form_token(client), **valid_form(**fields)}
    return client.post("/gui-yeu-cau", data=data, content_type="multipart/form-data")


def sent_ref(response) -> str:
    """Return the code of a request the form took (from its redirect)."""
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    location = response.headers["Location"]
    match = re.search(r"/yeu-cau/([A-Z0-9-]+)/da-gui$", location)
    assert match, location
    return match.group(1)


def stored(connection, ref: str) -> store.Request:
    """Return the stored request of a code."""
    from sqlalchemy.orm import Session

    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        found = store.get_by_ref(session, ref)
    assert found is not None
    return found


def jpeg_with_exif(width: int = 3000, height: int = 2000) -> bytes:
    """Return a JPEG carrying EXIF (a camera make and a GPS block)."""
    image = Image.new("RGB", (width, height), (200, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x8825] = {1: "N", 2: (10.0, 58.0, 12.0), 3: "E", 4: (106.0, 39.0, 3.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()
