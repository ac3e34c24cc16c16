"""``/gui-yeu-cau``: the citizens' form without JavaScript: fields, errors in both languages, the code."""

from __future__ import annotations

import io
from html import unescape

import pytest
from PIL import Image
from sqlalchemy import text

from tests.portal.requests.helpers import form_token, jpeg_with_exif, send, sent_ref, stored, valid_form


def test_the_form_lists_the_catalogues_kinds_and_says_what_is_kept(client):
    response = client.get("/gui-yeu-cau")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for title in ("Thực phẩm, nhu yếu phẩm", "Y tế khẩn cấp", "F0 tại nhà", "Phản ánh vi phạm", "Khác"):
        assert title in html
    assert 'type="radio" name="kind" value="medical"' in html
    assert "Người bệnh cần cấp cứu hoặc hỗ trợ y tế ngay" in html  # each kind's description
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html
    assert "sẽ bị xóa 90 ngày sau khi yêu cầu được đóng" in html  # the retention setting, said plainly
    assert response.headers["Cache-Control"] == "private, no-store"
    english = client.get("/gui-yeu-cau?lang=en").get_data(as_text=True)
    assert "Food and essentials" in english and "deleted 90 days after the request is closed" in english


def test_the_english_address_answers_with_the_form(client):
    response = client.get("/request?kind=medical")
    assert response.status_code == 301 and response.headers["Location"].endswith("/gui-yeu-cau?kind=medical")
    assert 'value="medical" checked' in client.get("/gui-yeu-cau?kind=medical").get_data(as_text=True)


def test_the_top_bar_links_to_the_form(client):
    html = client.get("/tim-diem").get_data(as_text=True)
    assert '<a href="/gui-yeu-cau">Gửi yêu cầu hỗ trợ</a>' in html
    assert '<a href="/gui-yeu-cau">Request help</a>' in client.get("/tim-diem?lang=en").get_data(as_text=True)


def test_a_form_without_its_token_is_refused(client, connection):
    before = connection.execute(text("SELECT count(*) FROM service_request")).scalar_one()
    response = client.post("/gui-yeu-cau", data=valid_form())
    assert response.status_code == 400
    assert connection.execute(text("SELECT count(*) FROM service_request")).scalar_one() == before


def test_a_sent_form_redirects_to_its_code_and_is_stored(client, connection):
    response = send(client, address="Số 12 đường Yersin", name="Nguyễn Văn A")
    ref = sent_ref(response)
    request = stored(connection, ref)
    assert (request.kind, request.phone, request.commune_code, request.source) == ("food", "0912345678",
                                                                                    "25741", "web")
    assert (request.name, request.address, request.status) == ("Nguyễn Văn A", "Số 12 đường Yersin", "new")
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'id="req-code">{ref}<' in html
    assert " – ".join(" ".join(part) for part in ref.split("-")) in html  # how to read it aloud
    assert f'href="/yeu-cau/{ref}"' in html
    assert ref.startswith("BD-")


def test_a_pin_places_the_request_by_its_point(client, connection):
    lon, lat = connection.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_unit"
        " WHERE boundary_set = 'vn2021' AND code = '25741') q")).one()
    ref = sent_ref(send(client, commune="", lon=f"{lon:.6f}", lat=f"{lat:.6f}"))
    request = stored(connection, ref)
    assert request.commune_code == "25741"
    assert request.lon == pytest.approx(lon, abs=1e-6) and request.lat == pytest.approx(lat, abs=1e-6)


@pytest.mark.parametrize(("fields", "field", "vi", "en"), [
    ({"kind": ""}, "kind", "Chọn loại yêu cầu.", "Choose the kind of request."),
    ({"description": ""}, "description", "Mô tả yêu cầu của bạn.", "Describe your request."),
    ({"phone": ""}, "phone", "Nhập số điện thoại", "Give a phone number"),
    ({"phone": "12345"}, "phone", "", ""),
    ({"commune": ""}, "location", "Chọn vị trí trên bản đồ hoặc nhập tên xã/phường.",
     "Pick the place on the map or type the commune's name."),
    ({"commune": "Xã Không Tồn Tại"}, "location", "Không tìm thấy xã/phường", "No commune or ward named"),
    ({"commune": "", "lon": "105.85", "lat": "21.03"}, "location", "nằm ngoài địa bàn", "outside the area"),
    ({"consent": None}, "consent", "Hãy đánh dấu đồng ý", "Tick the consent box"),
])
def test_each_wrong_field_is_named_next_to_it_in_both_languages(client, connection, fields, field, vi, en):
    before = connection.execute(text("SELECT count(*) FROM service_request")).scalar_one()
    for lang, expected in (("vi", vi), ("en", en)):
        client.get(f"/gui-yeu-cau?lang={lang}")
        response = send(client, **{"description": "Cần hỗ trợ gấp", **fields})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert f'id="error-{field}"' in html
        message = unescape(html.split(f'id="error-{field}" role="alert">', 1)[1].split("</p>", 1)[0])
        assert expected in message
        assert message.strip()
        summary = "Yêu cầu chưa gửi được" if lang == "vi" else "The request was not sent"
        assert summary in html
        if field != "description":
            assert "Cần hỗ trợ gấp" in html  # the values are kept
        assert 'name="csrf_token"' in html
    assert connection.execute(text("SELECT count(*) FROM service_request")).scalar_one() == before


def test_the_phone_message_differs_between_languages(client):
    html_vi = send(client, phone="12345").get_data(as_text=True)
    client.get("/gui-yeu-cau?lang=en")
    html_en = send(client, phone="12345").get_data(as_text=True)
    vi = html_vi.split('id="error-phone" role="alert">', 1)[1].split("</p>", 1)[0]
    en = html_en.split('id="error-phone" role="alert">', 1)[1].split("</p>", 1)[0]
    assert vi != en


def test_every_wrong_field_is_named_at_once_and_typed_values_kept(client):
    response = send(client, kind="", description="", phone="", commune="", consent=None,
                    address="Hẻm 5 Lê Lợi", name="Trần Thị B")
    html = response.get_data(as_text=True)
    for field in ("kind", "description", "phone", "location", "consent"):
        assert f'id="error-{field}"' in html, field
    assert 'value="Hẻm 5 Lê Lợi"' in html and 'value="Trần Thị B"' in html


def test_a_photo_is_stored_as_a_resized_jpeg_without_exif(client, connection):
    original = jpeg_with_exif()
    assert b"SecretCameraMaker" in original
    data = {"csrf_token": form_token(client), **valid_form(),
            "photo": (io.BytesIO(original), "anh.jpg", "image/jpeg")}
    ref = sent_ref(client.post("/gui-yeu-cau", data=data, content_type="multipart/form-data"))
    request = stored(connection, ref)
    assert request.has_photo
    photo = bytes(connection.execute(text("SELECT photo FROM service_request WHERE ref = :r"),
                                     {"r": ref}).scalar_one())
    assert b"SecretCameraMaker" not in photo and b"Exif" not in photo
    with Image.open(io.BytesIO(photo)) as image:
        assert image.format == "JPEG" and max(image.size) <= 1280
        assert not image.getexif()


def test_a_file_that_is_not_a_photo_is_refused_next_to_the_field_and_not_kept(client):
    data = {"csrf_token": form_token(client), **valid_form(description="Cần thuốc hạ sốt"),
            "photo": (io.BytesIO(b"%PDF-1.4 not an image"), "giay.pdf", "application/pdf")}
    response = client.post("/gui-yeu-cau", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="error-photo"' in html and "JPEG hoặc PNG" in html
    assert "Cần thuốc hạ sốt" in html


def test_the_form_is_rate_limited_per_client(connection, database_url):
    from portal import create_app
    from tests.conftest import testing

    app = testing(create_app({"bind": connection, "database_url": database_url, "basemap_url": "",
                              "request_form_rate_limit": "2/minute"}))
    client = app.test_client()
    assert send(client, description="một").status_code == 303
    assert send(client, description="hai").status_code == 303
    refused = send(client, description="ba")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
