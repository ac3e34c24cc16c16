"""The one error base: every error a person may read carries a code, an HTTP status and two languages.

Packages raise these (or their own subclasses); the portal renders any of them as a page or JSON
(``portal.errors``), the CLI prints both languages.  A message left out falls back to the class's
``default`` pair, so no error ever shows a bare key.
"""

from __future__ import annotations


class EpimapError(Exception):
    """Base of every error shown to people: a stable code, a status and a message in vi and en."""

    status = 500
    code = "error"
    title_key = "server_error_title"  # the page title the portal shows above the message
    default = ("Đã có lỗi xảy ra. Vui lòng thử lại sau.", "Something went wrong. Please try again later.")
    retry_after: int | None = None  # seconds; sent as Retry-After when set

    def __init__(self, message_vi: str | None = None, message_en: str | None = None) -> None:
        super().__init__(message_en or self.default[1])
        self.message_vi = message_vi
        self.message_en = message_en

    def message(self, lang: str) -> str:
        """Return the message in the given language (``vi`` or ``en``)."""
        text = self.message_vi if lang == "vi" else self.message_en
        return text or self.default_message(lang)

    def default_message(self, lang: str) -> str:
        """Return the message shown when none was given."""
        return self.default[0] if lang == "vi" else self.default[1]

    def as_dict(self) -> dict[str, str]:
        """Return the error as plain data for reports and API answers."""
        return {"code": self.code, "message_vi": self.message("vi"), "message_en": self.message("en")}


class NotFound(EpimapError):
    """The unit, layer, publication or page does not exist (or is not the requester's to see)."""

    status = 404
    code = "not_found"
    title_key = "not_found_title"
    default = ("Không tìm thấy trang hoặc đơn vị hành chính này.",
               "This page or administrative unit does not exist.")


class BadRequest(EpimapError):
    """The request's parameters are invalid."""

    status = 400
    code = "bad_request"
    title_key = "bad_request_title"
    default = ("Yêu cầu không hợp lệ", "Bad request")


class Problem(EpimapError):
    """Data that cannot be used as it is (a feed, a cell, a publication): nothing was changed."""

    status = 422
    title_key = "unprocessable_title"
    default = ("Dữ liệu không xử lý được.", "The data could not be processed.")

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_vi, message_en)
        self.code = code

    def __reduce__(self) -> tuple:
        """Pickle by code and messages (rows parsed in another process send their problems back)."""
        return type(self), (self.code, self.message_vi, self.message_en)
