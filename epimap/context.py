"""What every ``epimap`` command receives: the settings and, lazily, the database bind."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from epimap.db import Bind, make_engine
from epimap.errors import EpimapError, Problem
from epimap.settings import Settings


@dataclass
class AppContext:
    """What every command receives: the settings and, when first needed, the database bind."""

    settings: Settings
    _bind: Bind | None = field(default=None, repr=False)

    @property
    def bind(self) -> Bind:
        if self._bind is None:
            self._bind = make_engine(self.settings)
        return self._bind


pass_app = click.make_pass_decorator(AppContext)


def cli_error(exc: EpimapError) -> click.ClickException:
    """Return the one-line CLI error for an error, in both languages (a problem with its code first)."""
    code = f"[{exc.code}] " if isinstance(exc, Problem) else ""
    return click.ClickException(f"{code}{exc.message('vi')} / {exc.message('en')}")
