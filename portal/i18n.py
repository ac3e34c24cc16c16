"""Vietnamese first, English on a switch: the chosen language and the UI strings."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, g, request

LANGUAGES = ("vi", "en")
COOKIE = "lang"

MESSAGES: dict[str, dict[str, str]] = {
    "site_title": {"vi": "Bản đồ dịch tễ", "en": "Epidemic map"},
    "switch_language": {"vi": "English", "en": "Tiếng Việt"},
    "children": {"vi": "Đơn vị trực thuộc", "en": "Subdivisions"},
    "no_children": {"vi": "Không có đơn vị trực thuộc.", "en": "No subdivisions."},
    "facts": {"vi": "Thông tin", "en": "Facts"},
    "kind": {"vi": "Loại đơn vị", "en": "Type"},
    "code": {"vi": "Mã (TCTK)", "en": "Code (GSO)"},
    "area": {"vi": "Diện tích", "en": "Area"},
    "population": {"vi": "Dân số", "en": "Population"},
    "unknown": {"vi": "chưa có số liệu", "en": "not known"},
    "boundary_set": {"vi": "Hệ thống đơn vị", "en": "Boundary set"},
    "map": {"vi": "Bản đồ", "en": "Map"},
    "breadcrumbs": {"vi": "Đường dẫn", "en": "Breadcrumbs"},
    "level_province": {"vi": "Tỉnh", "en": "Province"},
    "level_district": {"vi": "Huyện", "en": "District"},
    "level_commune": {"vi": "Xã", "en": "Commune"},
    "not_found_title": {"vi": "Không tìm thấy", "en": "Not found"},
    "not_found": {"vi": "Không tìm thấy trang hoặc đơn vị hành chính này.",
                  "en": "This page or administrative unit does not exist."},
    "bad_request_title": {"vi": "Yêu cầu không hợp lệ", "en": "Bad request"},
    "server_error_title": {"vi": "Lỗi hệ thống", "en": "Server error"},
    "unprocessable_title": {"vi": "Không xử lý được dữ liệu", "en": "Data not accepted"},
    "unavailable_title": {"vi": "Tạm thời gián đoạn", "en": "Temporarily unavailable"},
    "unavailable": {"vi": "Mất kết nối tới cơ sở dữ liệu; vui lòng thử lại sau giây lát.",
                    "en": "The database connection was lost; please try again in a moment."},
    "server_error": {"vi": "Đã có lỗi xảy ra. Vui lòng thử lại sau.",
                     "en": "Something went wrong. Please try again later."},
    "back_home": {"vi": "Về trang chủ", "en": "Back to the home page"},
    "statistics": {"vi": "Số liệu dịch", "en": "Epidemic figures"},
    "statistic": {"vi": "Chỉ số", "en": "Statistic"},
    "date": {"vi": "Ngày", "en": "Date"},
    "show": {"vi": "Xem", "en": "Show"},
    "stat_new_cases_7d": {"vi": "Ca mắc mới trong 7 ngày", "en": "New cases in 7 days"},
    "stat_cases_per_100k": {"vi": "Ca mới 7 ngày trên 100.000 dân", "en": "7-day cases per 100,000"},
    "stat_doses_per_100": {"vi": "Số mũi tiêm trên 100 dân", "en": "Doses per 100 people"},
    "week_to": {"vi": "7 ngày đến", "en": "7 days to"},
    "no_data": {"vi": "Không có số liệu", "en": "No data"},
    "no_statistics": {"vi": "Chưa có số liệu dịch cho đơn vị này.", "en": "No epidemic figures yet."},
    "no_data_for_statistic": {"vi": "Chưa đủ số liệu cho chỉ số này (cần dân số hoặc số mũi tiêm).",
                              "en": "Not enough data for this statistic (population or doses needed)."},
    "new_cases_week": {"vi": "Ca mắc mới 7 ngày qua", "en": "New cases, last 7 days"},
    "new_cases_chart": {"vi": "Ca mắc mới theo ngày", "en": "New cases per day"},
    "risk_levels": {"vi": "Cấp độ dịch", "en": "Risk levels"},
    "risk_unknown": {"vi": "Chưa đủ số liệu để xác định cấp độ", "en": "Not enough data for a level"},
    "text_view": {"vi": "Xem dạng văn bản (cho điện thoại chậm, trình đọc màn hình)",
                  "en": "Text view (for slow phones and screen readers)"},
    "text_view_title": {"vi": "Dạng văn bản", "en": "Text view"},
    "map_view": {"vi": "Xem bản đồ", "en": "Map view"},
    "new_cases_short": {"vi": "ca mới", "en": "new cases"},
    "more_on_map": {"vi": "Còn nhiều điểm khác; xem trên bản đồ hoặc tải dữ liệu.",
                    "en": "There are more; see the map or download the data."},
    "no_features": {"vi": "Chưa có dữ liệu lớp bản đồ nào trong đơn vị này.",
                    "en": "No map layer has data in this unit yet."},
    "legend": {"vi": "Chú giải", "en": "Legend"},
    "updated": {"vi": "Cập nhật", "en": "Updated"},
    "approximate": {"vi": "Vị trí gần đúng (trung tâm xã/phường).",
                    "en": "Approximate location (the commune's centre)."},
    "features_here": {"vi": "điểm ở khu vực này", "en": "features here"},
    "zoom_in": {"vi": "Phóng to để xem từng điểm.", "en": "Zoom in to see each one."},
    "click_hint": {"vi": "Bấm vào một đơn vị trên bản đồ để xem chi tiết.",
                   "en": "Click a unit on the map to open it."},
}


def register_messages(messages: dict[str, dict[str, str]]) -> None:
    """Add a feature's UI strings (each in Vietnamese and English) to the catalogue of messages."""
    for key, entry in messages.items():
        if set(entry) != set(LANGUAGES):
            raise ValueError(f"message {key!r} needs exactly {LANGUAGES}")
        if key in MESSAGES and MESSAGES[key] != entry:
            raise ValueError(f"message {key!r} is already defined differently")
    MESSAGES.update(messages)


MAP_TEXT_KEYS = ("legend", "updated", "approximate", "features_here", "zoom_in")


def map_texts() -> dict[str, str]:
    """Return the UI strings the map's script needs, in the current language."""
    return {key: translate(key) for key in MAP_TEXT_KEYS}


def current_language() -> str:
    """Return the request's language: ``?lang=``, then the cookie, then Vietnamese."""
    if "lang" not in g:
        asked = request.args.get("lang") or request.cookies.get(COOKIE)
        g.lang = asked if asked in LANGUAGES else "vi"
    return g.lang


def has_message(key: str) -> bool:
    """Tell whether a UI string is registered."""
    return key in MESSAGES


def translate(key: str, lang: str | None = None) -> str:
    """Return a UI string in the current (or given) language."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return entry[lang or current_language()]


# Public, cached responses (embeds framed by other sites, snapshots, downloads) never set a cookie.
COOKIELESS_PATHS = ("/embed/", "/snapshot/", "/download/", "/oembed")


def _remember_language(response: Response) -> Response:
    asked = request.args.get("lang")
    if request.path.startswith(COOKIELESS_PATHS):
        return response
    if asked in LANGUAGES and asked != request.cookies.get(COOKIE):
        response.set_cookie(COOKIE, asked, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def language_url(lang: str) -> str:
    """Return this page's URL in another language, keeping its query (a search, a date …)."""
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return "?" + urlencode([*query, ("lang", lang)])


def init_app(app: Flask) -> None:
    """Expose ``_`` and ``lang`` to templates and remember an explicit language choice."""
    app.jinja_env.globals.update(_=translate, current_language=current_language,
                                 language_url=language_url)
    app.after_request(_remember_language)
