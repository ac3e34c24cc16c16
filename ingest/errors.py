"""Problems found in a feed, each with a reason code and a message in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Sequence

from epimap.errors import Problem

__all__ = ["FeedError", "OtherProvince", "Problem", "ValueProblem", "ambiguous_old_unit", "ambiguous_parent",
           "carried_conflict", "carried_row", "conflicting_rows", "district_mismatch", "other_province",
           "outside_scope", "point_in_other_district", "repeated_row", "split_commune", "unknown_parent",
           "unknown_share"]

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


# ----------------------------------------------------------------- rows carried through the crosswalk


def carried_row(old: str, year: str, new: list[tuple[str, float]], estimated: bool) -> Problem:
    """Return the note of a row naming an old unit, carried to its new units (name, share) of a year.

    >>> carried_row("Xã Hưng Dũng (2021)", "2025", [("Phường Trường Vinh", 1.0)], False).message_en
    'Xã Hưng Dũng (2021) carried to Phường Trường Vinh (2025)'
    >>> carried_row("P. X (2021)", "2025", [("A", 0.625), ("B", 0.375)], True).message_vi
    'P. X (2021) → A (2025, 62%), B (2025, 38%): số liệu chia theo diện tích (ước tính)'
    """
    shown = ", ".join(f"{name} ({year}, {share:.0%})" if estimated else f"{name} ({year})"
                      for name, share in new)
    if not estimated:
        return Problem("carried_2021", f"{old} → {shown}", f"{old} carried to {shown}")
    return Problem("carried_2021", f"{old} → {shown}: số liệu chia theo diện tích (ước tính)",
                   f"{old} carried to {shown}: figures shared by area (estimated)")


def split_commune(old: str, new: str) -> Problem:
    """Return the problem of a row placed only by an old unit's name, which went into several units."""
    return Problem("split_commune",
                   f"{old} nay thuộc nhiều đơn vị: {new}; tên xã cũ không cho biết điểm thuộc đơn vị nào,"
                   " hãy ghi tọa độ.",
                   f"{old} was split among {new}; its old name cannot tell which holds the row:"
                   " give coordinates.")


def unknown_share(old: str, new: str) -> Problem:
    """Return the problem of a statistics row of a split old unit whose old boundary is not loaded."""
    return Problem("unknown_share",
                   f"{old} đã chia cho {new}; chưa có ranh giới cũ để chia số liệu theo diện tích."
                   " Hãy ghi số liệu theo đơn vị mới hoặc nạp ranh giới cũ.",
                   f"{old} was split among {new}; without its old boundary its figures cannot be"
                   " shared by area. Give figures per new unit, or load the old boundaries.")


def ambiguous_old_unit(name: str, listing: str) -> Problem:
    """Return the problem of an old unit's name that several old units bore."""
    return Problem("ambiguous_unit", f"Tên cũ “{name}” khớp nhiều đơn vị trước sắp xếp: {listing};"
                   " hãy ghi rõ huyện hoặc mã xã cũ.",
                   f"The old name “{name}” matches several units before the reform: {listing};"
                   " give the district or the old commune code.")


def carried_conflict(new: str, metric: str, day: str, row: int) -> Problem:
    """Return the problem of an old unit's figure for a new unit that a row of the new unit also gives."""
    return Problem("carried_conflict",
                   f"Dòng {row} đã ghi số liệu của {new} ({metric} ngày {day}); số liệu của xã cũ không"
                   " được cộng thêm.",
                   f"Row {row} already gives {new} ({metric} on {day}); the old unit's figure is not"
                   " added to it.")
