"""Problems found in a feed, each with a reason code and a message in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Sequence

from epimap.errors import Problem

__all__ = ["FeedError", "OtherProvince", "Problem", "ValueProblem", "ambiguous_parent", "conflicting_rows",
           "district_mismatch", "other_province", "outside_scope", "point_in_other_district", "repeated_row",
           "unknown_parent"]

# How a parent column's level is named in messages: (Vietnamese, English).
LEVEL_NAMES = {"province": ("tỉnh/thành phố", "province"), "district": ("quận/huyện", "district")}


class ValueProblem(Problem, ValueError):
    """A single cell could not be read as the value its column needs."""


class FeedError(Problem):
    """The whole file is unusable (empty, corrupt, too large, unknown layout); nothing is published."""


class OtherProvince(Problem):
    """A row of another province than the scope's: expected in a national feed, counted per province."""

    def __init__(self, code: str, message_vi: str, message_en: str, province: str = "") -> None:
        super().__init__(code, message_vi, message_en)
        self.province = province

    def __reduce__(self) -> tuple:
        """Pickle with the province, which the plain problem's pickling would drop."""
        return type(self), (self.code, self.message_vi, self.message_en, self.province)


def other_province(province: str, scope: str) -> OtherProvince:
    """Return the problem of a row whose province is not the scope's."""
    return OtherProvince("out_of_scope",
                         f"Dòng thuộc “{province}”, ngoài đơn vị được phép cập nhật ({scope}).",
                         f"The row belongs to “{province}”, outside the unit this feed may update ({scope}).",
                         province)


def unknown_parent(level: str, name: str, within: str) -> Problem:
    """Return the problem of a province or district column naming no unit at all."""
    vi, en = LEVEL_NAMES[level]
    return Problem("unknown_unit", f"Không tìm thấy {vi} “{name}” trong {within}.",
                   f"No {en} “{name}” found in {within}.")


def ambiguous_parent(level: str, name: str, listing: str) -> Problem:
    """Return the problem of a province or district column naming several units."""
    vi, en = LEVEL_NAMES[level]
    return Problem("ambiguous_unit", f"Tên {vi} “{name}” khớp nhiều đơn vị: {listing}.",
                   f"The {en} name “{name}” matches several units: {listing}.")


def district_mismatch(name: str, found: str, district: str) -> Problem:
    """Return the problem of a unit found in scope under another district than the row gives."""
    return Problem("out_of_scope",
                   f"“{name}” trong phạm vi là {found}, không thuộc quận/huyện “{district}” như dòng ghi;"
                   " dòng không được gán cho đơn vị cùng tên ở nơi khác.",
                   f"“{name}” in scope is {found}, not in the district “{district}” the row gives;"
                   " the row is not put on a same-named unit elsewhere.")


def outside_scope(name: str, scope: str) -> Problem:
    """Return the problem of a unit (or the district a row gives) outside the feed's scope."""
    return Problem("out_of_scope", f"Đơn vị “{name}” nằm ngoài đơn vị được phép cập nhật ({scope}).",
                   f"Unit “{name}” is outside the unit this feed may update ({scope}).")


def _rows(numbers: Sequence[object], word_and: str) -> str:
    """Return row numbers as words: "3", "3 and 9", "3, 5 and 9".

    >>> _rows([3], "và"), _rows([3, 9], "and"), _rows([3, 5, 9], "và")
    ('3', '3 and 9', '3, 5 và 9')
    """
    shown = [str(n) for n in numbers]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} {word_and} {shown[-1]}"


def _figure(value: float) -> str:
    """Return a value as people write it: integers without a decimal point.

    >>> _figure(3.0), _figure(2.5)
    ('3', '2.5')
    """
    return str(int(value)) if value == int(value) else str(value)


def repeated_row(row: int, first: int, unit: str, metric: str, day: str) -> Problem:
    """Return the warning of a row giving the same value as an earlier row for a unit, metric and day."""
    return Problem("repeated_row",
                   f"Dòng {row} lặp lại dòng {first} (cùng đơn vị {unit}, {metric} ngày {day}, cùng số liệu);"
                   " chỉ giữ một.",
                   f"Row {row} repeats row {first} (same unit {unit}, {metric} on {day}, same value);"
                   " one is kept.")


def conflicting_rows(rows: list[int], values: list[float], unit: str, metric: str, day: str) -> Problem:
    """Return the problem of rows giving different values for one unit, metric and day."""
    figures = [_figure(v) for v in values]
    figures_vi, figures_en = _rows(figures, "và"), _rows(figures, "and")
    return Problem("duplicate_unit",
                   f"Các dòng {_rows(rows, 'và')} cho đơn vị {unit}, {metric} ngày {day} những số liệu khác"
                   f" nhau ({figures_vi}); không nhận dòng nào.",
                   f"Rows {_rows(rows, 'and')} give unit {unit}, {metric} on {day} different values"
                   f" ({figures_en}); none of them is accepted.")


def point_in_other_district(given: str, found: str) -> Problem:
    """Return the warning of a point lying in another district than its row's district column names."""
    return Problem("point_in_other_district",
                   f"Tọa độ nằm ở {found}, không thuộc quận/huyện “{given}” mà dòng ghi; hãy kiểm tra"
                   " lại.",
                   f"The coordinates lie in {found}, not in the district “{given}” the row gives;"
                   " check them.")
