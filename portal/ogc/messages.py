"""UI strings of the OGC API pages (Vietnamese first, English)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "ogc_nav": {"vi": "Dữ liệu mở (API)", "en": "Open data (API)"},
    "ogc_title": {"vi": "Dữ liệu bản đồ dịch tễ (OGC API – Features)",
                  "en": "Epidemic map data (OGC API – Features)"},
    "ogc_description": {
        "vi": "Các lớp bản đồ công khai theo chuẩn OGC API – Features: GeoJSON cho phần mềm GIS (QGIS, GDAL,"
              " ArcGIS), HTML để xem nhanh.",
        "en": "The public map layers as OGC API – Features: GeoJSON for GIS software (QGIS, GDAL, ArcGIS),"
              " HTML for a quick look."},
    "ogc_collections": {"vi": "Các lớp dữ liệu", "en": "Collections"},
    "ogc_conformance": {"vi": "Các chuẩn tuân thủ", "en": "Conformance classes"},
    "ogc_api_definition": {"vi": "Mô tả API (OpenAPI 3.0)", "en": "API definition (OpenAPI 3.0)"},
    "ogc_items": {"vi": "Các đối tượng", "en": "Features"},
    "ogc_as_json": {"vi": "Dạng JSON", "en": "As JSON"},
    "ogc_extent": {"vi": "Phạm vi (tây, nam, đông, bắc)", "en": "Extent (west, south, east, north)"},
    "ogc_first_published": {"vi": "Công bố lần đầu", "en": "First published"},
    "ogc_no_items": {"vi": "Không có đối tượng nào khớp.", "en": "No features match."},
    "ogc_shown": {"vi": "Hiển thị {first}–{last} trong {matched} đối tượng.",
                  "en": "Showing {first}–{last} of {matched} features."},
    "ogc_next": {"vi": "Trang sau", "en": "Next page"},
    "ogc_prev": {"vi": "Trang trước", "en": "Previous page"},
    "ogc_id": {"vi": "Mã", "en": "Id"},
    "ogc_location": {"vi": "Vị trí (kinh độ, vĩ độ)", "en": "Location (longitude, latitude)"},
    "ogc_geometry": {"vi": "Hình học", "en": "Geometry"},
    "ogc_attribute": {"vi": "Thuộc tính", "en": "Attribute"},
    "ogc_value": {"vi": "Giá trị", "en": "Value"},
    "ogc_collection": {"vi": "Lớp dữ liệu", "en": "Collection"},
}
