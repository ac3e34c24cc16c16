"""Problems found in a feed, each with a reason code and a message in Vietnamese and English."""

from __future__ import annotations


class Problem(Exception):
    """Base for every feed problem: a stable code plus a Vietnamese and an English message."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en

    def __reduce__(self) -> tuple:
        """Pickle by code and messages (rows parsed in another process send their problems back)."""
        return type(self), (self.code, self.message_vi, self.message_en)

    def as_dict(self) -> dict[str, str]:
        """Return the problem as plain data for reports."""
        return {"code": self.code, "message_vi": self.message_vi, "message_en": self.message_en}


class ValueProblem(Problem, ValueError):
    """A single cell could not be read as the value its column needs."""


class FeedError(Problem):
    """The whole file is unusable (empty, corrupt, too large, unknown layout); nothing is published."""
