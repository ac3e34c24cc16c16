"""UI strings: every key the templates and the code use is registered in Vietnamese and English.

Keys are read from the templates (``_('key')``) and the Python code (``translate("key")``).  A key
built from a prefix (``_('stat_' ~ s)``, ``translate(f"level_{level}")``) is checked for every
value the prefix is completed with, taken from where those values are defined; a key held in a
variable is checked through the call sites listed in :data:`VARIABLE_SITES`.  A new prefix or a
new variable call site fails the walk until it is listed here.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from string import Formatter

import pytest
from flask import Flask
from sqlalchemy import text

from dispatch import store
from epimap import schema
from layers.statistics import MAP_STATISTICS
from officials import queue
from officials.accounts import ROLES
from portal import i18n
from portal.requests import views as request_views

REPO = Path(__file__).resolve().parents[2]
PORTAL = REPO / "portal"
PACKAGES = ("epimap", "boundaries", "layers", "ingest", "officials", "portal")
KEY = re.compile(r"[a-z][a-z0-9_]*")
CALL = re.compile(r"(?<![\w.])(?:_|translate)\(")
LITERAL = re.compile(r"""\s*(['"])([^'"]+)\1\s*\)""")
PREFIX = re.compile(r"""\s*(['"])([^'"]+)\1\s*~""")
VARIABLE = re.compile(r"\s*([A-Za-z_][\w.]*)\s*\)")


def _checked_values(table, column: str) -> tuple[str, ...]:
    """Return the values a CHECK (column IN (...)) constraint of the schema allows."""
    for constraint in table.constraints:
        sql = str(getattr(constraint, "sqltext", ""))
        if sql.startswith(f"{column} IN"):
            return tuple(re.findall(r"'([^']+)'", sql))
    raise AssertionError(f"no CHECK on {table.name}.{column}")


def _levels(connection) -> tuple[str, ...]:
    return tuple(connection.execute(text("SELECT DISTINCT unnest(levels) FROM boundary_set")).scalars())


# What each key prefix is completed with, where the templates or the code build keys.
DYNAMIC: dict[str, Callable[..., tuple[str, ...]]] = {
    "stat_": lambda connection: MAP_STATISTICS,
    "level_": _levels,
    "console_role_": lambda connection: ROLES,
    "console_status_": lambda connection: _checked_values(schema.feed_upload, "status"),
    "console_action_": lambda connection: _checked_values(schema.publication, "action"),
    "console_": lambda connection: ("added", "changed", "removed"),  # preview.html's change lists
    "console_job_phase_": lambda connection: queue.PHASES,  # job.html: the upload's job (officials/queue.py)
    "find_status_": lambda connection: ("open", "closed", "unknown"),  # find._site_view
    "citizen_status_": lambda connection: store.STATUSES,  # the request follow page (portal/requests)
}
FIND_AGO = ("find_ago_now", *(f"find_ago_{unit}{plural}" for unit in ("minute", "hour", "day")
                              for plural in ("", "s")))


def _title_keys() -> set[str]:
    """Return every error class's ``title_key`` (the error page's title)."""
    keys = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets = node.targets if isinstance(node, ast.Assign) else []
                if any(getattr(target, "id", "") == "title_key" for target in targets):
                    keys.add(node.value.value)
    return keys


def _constants(function: ast.AST) -> set[str]:
    return {node.value for node in ast.walk(function)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.fullmatch(node.value)}


# Calls that pass a key held in a variable: (file, function) -> the keys it may hold.
VARIABLE_SITES: dict[tuple[str, str], Callable[[ast.AST, Flask], set[str]]] = {
    ("portal/i18n.py", "map_texts"): lambda function, app: set(i18n.MAP_TEXT_KEYS),
    ("portal/find.py", "_page_texts"): lambda function, app: _constants(function),
    ("portal/find.py", "format_ago"): lambda function, app: set(FIND_AGO),
    ("portal/errors.py", "default_message"): lambda function, app: _title_keys(),
    ("portal/errors.py", "render"): lambda function, app: _title_keys(),
    ("portal/share/downloads.py", "_level_header"): lambda function, app: set(),  # asks has_message first
    ("portal/templates/base.html", ""): lambda function, app: {key for _, key in app.config["NAV_LINKS"]},
    ("portal/requests/views.py", "_event_view"): lambda function, app: {
        *request_views.EVENT_LABELS.values(), request_views.OTHER_EVENT},
}


class Uses:
    """The keys found so far: literal keys, prefixes, variable call sites (each with where it was seen)."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.prefixes: dict[str, str] = {}
        self.sites: dict[tuple[str, str], ast.AST | None] = {}
        self.unread: list[str] = []


def _template_uses(uses: Uses) -> None:
    for path in sorted(PORTAL.rglob("*.html")):
        where = str(path.relative_to(REPO))
        source = path.read_text(encoding="utf-8")
        for call in CALL.finditer(source):
            rest = source[call.end():]
            if found := LITERAL.match(rest):
                uses.keys.setdefault(found.group(2), where)
            elif found := PREFIX.match(rest):
                uses.prefixes.setdefault(found.group(2), where)
            elif VARIABLE.match(rest):
                uses.sites[(where, "")] = None
            else:
                uses.unread.append(f"{where}: {source[call.start():call.end() + 40]!r}")


def _is_translate(func: ast.AST) -> bool:
    if isinstance(func, ast.Attribute):  # i18n.translate(...)
        return func.attr == "translate" and getattr(func.value, "id", None) == "i18n"
    return getattr(func, "id", None) == "translate"


def _functions(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.Call]]:
    """Yield each call of translate with the function it is in."""
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and _is_translate(node.func) and node.args:
                    yield function, node


def _python_uses(uses: Uses) -> None:
    for path in sorted(PORTAL.rglob("*.py")):
        where = str(path.relative_to(REPO))
        for function, call in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            key = call.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                uses.keys.setdefault(key.value, f"{where}:{call.lineno}")
            elif isinstance(key, ast.JoinedStr) and isinstance(key.values[0], ast.Constant):
                uses.prefixes.setdefault(key.values[0].value, f"{where}:{call.lineno}")
            elif isinstance(key, ast.JoinedStr):
                uses.unread.append(f"{where}:{call.lineno}: an f-string key without a prefix")
            else:
                uses.sites[(where, function.name)] = function


def _used_keys(app: Flask, connection) -> tuple[dict[str, str], list[str]]:
    """Return every key used (with where) and what the walk could not read."""
    uses = Uses()
    _template_uses(uses)
    _python_uses(uses)
    keys, unread = dict(uses.keys), list(uses.unread)
    for prefix, where in uses.prefixes.items():
        if prefix not in DYNAMIC:
            unread.append(f"{where}: keys built from {prefix!r}: say in DYNAMIC what completes them")
            continue
        keys.update({prefix + value: where for value in DYNAMIC[prefix](connection)})
    for site, function in uses.sites.items():
        if site not in VARIABLE_SITES:
            unread.append(f"{site[0]} {site[1]}: a key in a variable: say in VARIABLE_SITES which keys")
            continue
        keys.update({key: site[0] for key in VARIABLE_SITES[site](function, app)})
    return keys, unread


def test_every_key_used_is_registered_in_both_languages(app, connection):
    keys, unread = _used_keys(app, connection)
    assert unread == []
    assert len(keys) > 200  # the walk found the templates and the code
    catalogue = i18n.messages(app)
    missing = sorted(f"{key} ({where})" for key, where in keys.items()
                     if key not in catalogue or not all(catalogue[key].get(lang) for lang in i18n.LANGUAGES))
    assert missing == []


def test_every_registered_message_has_both_languages_and_the_same_fields(app):
    catalogue = i18n.messages(app)
    assert len(catalogue) > 200
    for key, entry in catalogue.items():
        assert set(entry) == set(i18n.LANGUAGES), key
        assert all(isinstance(entry[lang], str) and entry[lang].strip() for lang in i18n.LANGUAGES), key
        vi, en = ({field for _, field, _, _ in Formatter().parse(entry[lang]) if field}
                  for lang in i18n.LANGUAGES)
        assert vi == en, key  # "{n} ngày trước" and "{n} days ago" take the same fields


def test_the_walk_reads_what_the_templates_and_code_write(app, connection):
    keys, _ = _used_keys(app, connection)
    for key in ("site_title", "console_role_viewer", "stat_doses_per_100", "level_commune", "find_ago_days",
                "find_in_lockdown", "features_here", "ogc_nav", "not_found_title", "console_forbidden_title",
                "rate_limited", "console_status_failed", "console_action_rollback"):
        assert key in keys, key


def test_each_app_has_its_own_catalogue(app):
    other = Flask(__name__)
    i18n.register_messages(other, {"only_here": {"vi": "Chỉ ở đây", "en": "Only here"}})
    assert "only_here" in i18n.messages(other) and "only_here" not in i18n.messages(app)
    assert "site_title" not in i18n.messages(other)  # nothing is registered at import, for every app


@pytest.mark.parametrize("entry", [{"vi": "Có"}, {"vi": "Có", "en": " "},
                                   {"vi": "Có", "en": "Yes", "de": "Ja"}])
def test_registration_refuses_an_entry_without_both_languages(entry):
    with pytest.raises(ValueError, match="needs non-empty text"):
        i18n.register_messages(Flask(__name__), {"key": entry})


def test_registration_refuses_a_key_defined_twice_differently(app):
    with pytest.raises(ValueError, match="already defined differently"):
        i18n.register_messages(app, {"site_title": {"vi": "Khác", "en": "Other"}})
    same = dict(i18n.messages(app)["site_title"])
    i18n.register_messages(app, {"site_title": same})  # the same again is harmless


def test_a_missing_key_raises_in_testing(app):
    with app.test_request_context("/"), pytest.raises(i18n.MissingMessage, match="no_such_key"):
        i18n.translate("no_such_key")


def test_a_missing_key_is_logged_and_never_shown_in_production(app, caplog):
    app.testing = False
    with app.test_request_context("/?lang=en"), caplog.at_level(logging.ERROR, logger="portal.i18n"):
        assert i18n.translate("no_such_key") == i18n.PLACEHOLDER
        assert i18n.translate("site_title", "fr") == "Bản đồ dịch tễ"  # the other language, not the key
    assert "no_such_key" in caplog.text
