"""Problems found in a feed, each with a reason code and a message in Vietnamese and English."""

from __future__ import annotations

from epimap.errors import Problem

__all__ = ["FeedError", "Problem", "ValueProblem"]


class ValueProblem(Problem, ValueError):
    """A single cell could not be read as the value its column needs."""


class FeedError(Problem):
    """The whole file is unusable (empty, corrupt, too large, unknown layout); nothing is published."""
