"""Vietnamese first, English on a switch: the chosen language and the UI strings.

Each package registers its strings in its ``init_app`` (:func:`register_messages`), into the app's
own catalogue; nothing is registered at import.  Every entry has non-empty Vietnamese and English
text.  :func:`translate` of a key nobody registered raises :class:`MissingMessage` when the app is in
debug or testing mode; in production it logs an error and shows :data:`PLACEHOLDER`, never the
bare key.  ``tests/portal/test_messages.py`` checks every key the templates and the code use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request

from epimap.errors import BadRequest
from portal.messages import MESSAGES

LANGUAGES = ("vi", "en")
COOKIE = "lang"
EXTENSION = "epimap.messages"  # the app's catalogue: key -> {"vi": …, "en": …}
PLACEHOLDER = "[…]"  # shown for a missing UI string in production; the log names the key

log = logging.getLogger(__name__)


class MissingMessage(LookupError):
    """A UI string asked for that no ``init_app`` registered (raised in debug and testing)."""


def register_messages(app: Flask, messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add a feature's UI strings to this app's catalogue; each needs non-empty Vietnamese and English."""
    catalogue: dict[str, Mapping[str, str]] = app.extensions.setdefault(EXTENSION, {})
    for key, entry in messages.items():
        if set(entry) != set(LANGUAGES) or not all(isinstance(text, str) and text.strip()
                                                   for text in entry.values()):
            raise ValueError(f"message {key!r} needs non-empty text in exactly {LANGUAGES}")
        if key in catalogue and dict(catalogue[key]) != dict(entry):
            raise ValueError(f"message {key!r} is already defined differently")
    catalogue.update({key: MappingProxyType(dict(entry)) for key, entry in messages.items()})


def messages(app: Flask) -> Mapping[str, Mapping[str, str]]:
    """Return an app's catalogue of UI strings, read-only."""
    return MappingProxyType(app.extensions.get(EXTENSION, {}))


def has_message(key: str) -> bool:
    """Tell whether a UI string is registered."""
    return key in current_app.extensions.get(EXTENSION, {})


MAP_TEXT_KEYS = ("legend", "updated", "approximate", "features_here", "zoom_in", "zone_ended", "in_force_on")


def map_texts() -> dict[str, str]:
    """Return the UI strings the map's script needs, in the current language."""
    return {key: translate(key) for key in MAP_TEXT_KEYS}


def refuse_unknown_language() -> None:
    """Refuse a ``?lang=`` the portal does not speak (a 400), rather than answer in another language.

    A cookie naming an unknown language is only ignored: the URL, not the browser, asked for it.
    """
    if not _may_ask_language():
        return
    if any(asked not in LANGUAGES for asked in request.args.getlist("lang")):
        raise BadRequest("Tham số lang phải là vi hoặc en.", "Parameter lang must be vi or en.")


def _may_ask_language() -> bool:
    """Tell whether the query string may hold ``lang`` (spelt out or percent-encoded): parse it only then."""
    query = request.query_string
    return b"lang" in query or b"%" in query


def current_language() -> str:
    """Return the request's language: ``?lang=``, then the cookie, then Vietnamese."""
    if "lang" not in g:
        asked = request.args.get("lang") or request.cookies.get(COOKIE)
        g.lang = asked if asked in LANGUAGES else "vi"
    return g.lang


def translate(key: str, lang: str | None = None) -> str:
    """Return a UI string in the current (or given) language; a missing one is never shown as its key."""
    lang = lang or current_language()
    entry = current_app.extensions.get(EXTENSION, {}).get(key)
    if entry is not None and lang in entry:
        return entry[lang]
    return _missing(key, lang, entry)


def _missing(key: str, lang: str, entry: Mapping[str, str] | None) -> str:
    # Registration refuses an entry without both languages, so this is an unknown key (or language):
    # a bug to fail on where it is written and tested, and to log, never to show, where people read.
    if current_app.debug or current_app.testing:
        raise MissingMessage(f"no UI string {key!r} in {lang!r}: register it in its package's init_app")
    log.error("missing UI string %r in %r", key, lang)
    if entry:
        return next(iter(entry.values()))
    return PLACEHOLDER


# Public, cached responses (embeds framed by other sites, snapshots, downloads) never set a cookie.
COOKIELESS_PATHS = ("/embed/", "/snapshot/", "/download/", "/oembed", "/open311/")


def _remember_language(response: Response) -> Response:
    if request.path.startswith(COOKIELESS_PATHS) or not _may_ask_language():
        return response
    asked = request.args.get("lang")
    if asked in LANGUAGES and asked != request.cookies.get(COOKIE):
        response.set_cookie(COOKIE, asked, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def language_url(lang: str) -> str:
    """Return this page's URL in another language, keeping its query (a search, a date …)."""
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return "?" + urlencode([*query, ("lang", lang)])


def init_app(app: Flask) -> None:
    """Register the shared UI strings, expose ``_`` and ``lang`` to templates, remember a language choice."""
    register_messages(app, MESSAGES)
    app.jinja_env.globals.update(_=translate, current_language=current_language,
                                 language_url=language_url)
    app.before_request(refuse_unknown_language)
    app.after_request(_remember_language)
