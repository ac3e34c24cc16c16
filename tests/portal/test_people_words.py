"""What people read: choices by their labels, dates and numbers in the language's format, never keys."""

from __future__ import annotations

import html as htmllib
import re

from portal.catalog import current_catalog
from portal.database import db_session
from portal.maps.overlays import public_overlays


def _text_view(client, code: str, lang: str = "vi") -> str:
    page = client.get(f"/map/vn2021/{code}/van-ban?lang={lang}")
    assert page.status_code == 200
    return htmllib.unescape(page.get_data(as_text=True))


def test_the_text_view_shows_choice_labels_never_their_keys(client):
    vi, en = _text_view(client, "74"), _text_view(client, "74", "en")
    kinds_vi = set(re.findall(r"<dt>Loại</dt><dd>([^<]*)</dd>", vi))
    kinds_en = set(re.findall(r"<dt>Kind</dt><dd>([^<]*)</dd>", en))
    assert kinds_vi and kinds_vi <= {"Chốt kiểm soát", "Rào chắn", "Bệnh viện", "Phòng khám, trạm y tế",
                                     "Cơ sở điều trị COVID-19"}
    assert kinds_en and kinds_en <= {"Checkpoint", "Roadblock", "Hospital", "Clinic or health station",
                                     "COVID-19 treatment facility"}
    assert not re.search(r"<dd>(checkpoint|roadblock|covid_treatment)</dd>", vi + en)


def test_popup_fields_carry_types_and_choice_labels(app, connection):
    with app.test_request_context("/?lang=en"):
        overlays = public_overlays(db_session(), current_catalog(), "en")
    checkpoints = next(o for o in overlays if o.layer.id == "checkpoints")
    kind = next(f for f in checkpoints.meta["fields"] if f[0] == "kind")
    assert kind == ["kind", "Kind", "choice", {"checkpoint": "Checkpoint", "roadblock": "Roadblock"}]
