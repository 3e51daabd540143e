"""The web pages: a Flask app served by waitress, its security headers and error pages, and a
health check. The routes are in `subscribing` (confirm, unsubscribe, manage), `questions`
(a question's history) and `stats` (timeliness), on one blueprint; every page is an autoescaped template.
The Atom feeds are in `feeds`, the JSON API in `api` (its errors answered as JSON, and CORS for
GET on it and the feeds) and its OpenAPI document in `openapi`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import waitress
from flask import Flask, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from jinja2 import StrictUndefined
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException

from monitor.changes.diff import render_diff_html
from monitor.config import Settings
from monitor.notify.digest import Mailer, ensure_secret, mailer_for
from monitor.notify.errors import SubscriptionError
from monitor.notify.subscriptions import filter_labels
from monitor.web import api, browse, feeds, openapi, questions, search, stats, subscribing
from monitor.web.base import WebContext, transaction, web
from storage.db import open_database
from storage.terms import utcnow

log = logging.getLogger("pqwatch.web")
# The modules whose routes are on `web`: imported, so registered.
ROUTES = (api, browse, feeds, openapi, questions, search, stats, subscribing)


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Why: the CSP above has no frame-ancestors, so this keeps the unsubscribe button unframeable.
    "X-Frame-Options": "DENY",
}


MAX_FORM_BYTES = 64 * 1024  # the manage form is a few hundred bytes


def create_app(
    sessions: sessionmaker[Session],
    secret_key: str,
    base_url: str,
    clock: Callable[[], datetime] = utcnow,
    mailer: Mailer | None = None,
) -> Flask:
    """Build the web app over a session factory; links are checked against `secret_key`, and
    the follow form's confirmation mails go through `mailer` (none: stored, sent by
    `pqwatch resend-confirmation`)."""
    if not secret_key:
        raise ValueError("the web app needs the secret key that signs the mails' links")
    app = Flask(__name__, template_folder="templates", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_FORM_BYTES
    # Why: every stored text is scraped, so escape whatever a template's name ends with.
    app.jinja_env.autoescape = True
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.filters["diff_html"] = render_diff_html
    app.jinja_env.globals["filter_labels"] = filter_labels
    app.extensions["pqwatch"] = WebContext(sessions, secret_key, base_url.rstrip("/"), clock, mailer)
    app.register_blueprint(web)
    limit_forms(app)
    app.register_error_handler(SubscriptionError, _bad_link)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
    app.after_request(_add_security_headers)
    app.after_request(api.add_cors_headers)  # the API and the feeds, GET only
    return app


# Why: anyone can post the forms that mail an address (follow, subscribe). Besides one
# confirmation an hour to one address (subscribing.request_subscription), one client may post
# them only this often. Counted per process and per client address: behind a reverse proxy every
# client shares the proxy's address, so the proxy should limit these two paths itself.
FORM_LIMIT = "10 per 10 minutes"
FORM_ENDPOINTS = ("web.follow_question", "web.subscribe_to_view")


def limit_forms(app: Flask) -> Limiter:
    """Put FORM_LIMIT on the forms that mail an address, shared between them (a 429 past it)."""
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", headers_enabled=True)
    shared = limiter.shared_limit(FORM_LIMIT, scope="mailing-forms")
    for endpoint in FORM_ENDPOINTS:
        app.view_functions[endpoint] = cast(Any, shared(app.view_functions[endpoint]))
    return limiter


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    announce: Callable[[str, str], None] | None = None,
) -> None:
    """Serve the web app with waitress until interrupted, logging every request; `announce` is
    told the address it listens on once it does (OSError when it cannot: a port in use)."""
    sessions = open_database(settings.db_url)
    secret = ensure_secret(sessions, settings.secret_key)
    app = create_app(sessions, secret, settings.base_url, mailer=mailer_for(settings, sessions))
    server = create_server(RequestLog(app), host, port)
    url = f"http://{_host_in_url(host)}:{server.effective_port}/"
    if announce is not None:
        announce(url, settings.base_url)
    else:
        log.info("serving %s (public address %s)", url, settings.base_url)
    try:
        server.run()
    finally:
        server.close()


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# The pages reached by a signed link: their last path segment is a secret, never logged.
TOKEN_PATHS = ("/confirm/", "/unsubscribe/", "/manage/")


class RequestLog:
    """WSGI middleware logging one line per request: method, path, status, milliseconds."""

    def __init__(self, app: Callable[..., Any], logger: logging.Logger = log) -> None:
        self.app, self.log = app, logger

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serve the request, logging it when its status is known."""
        started = time.perf_counter()
        status: list[str] = []

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(code.split(" ", 1)[0])
            return start_response(code, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            self.log.info(
                "%s %s %s %.1f ms",
                environ.get("REQUEST_METHOD", "?"),
                shown_path(environ.get("PATH_INFO", "")),
                status[-1] if status else "-",
                (time.perf_counter() - started) * 1000,
            )


def shown_path(path: str) -> str:
    """A request path as the log shows it: a signed link's token cut to "…"."""
    for prefix in TOKEN_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path[:200]


# Why: idle or half-open connections must not starve the server. An idle channel is closed after
# `channel_timeout` seconds (checked every `cleanup_interval`), at most `connection_limit` are
# open at once (past it the rest wait in the kernel's backlog until one closes), and poll() has no
# select()'s limit of 1024 descriptors.
SERVER_OPTIONS: dict[str, Any] = {
    "channel_timeout": 20,
    "cleanup_interval": 5,
    "connection_limit": 200,
    "asyncore_use_poll": True,
    "ident": "pqwatch",
}


def create_server(app: Callable[..., Any], host: str, port: int, **overrides: object) -> Any:
    """A waitress server for the app with the connection bounds of SERVER_OPTIONS (overridable)."""
    options = {**SERVER_OPTIONS, **overrides}
    return waitress.create_server(app, host=host, port=port, **options)


# The pages with a form that POSTs (manage, follow, subscribe): see _add_security_headers.
FORM_PAGES = frozenset(
    {
        "web.manage_page",
        "web.question_page",
        "web.index_page",
        "web.changes_page",
        "web.department_page",
        "web.member_page",
    }
)


def _add_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if request.endpoint in FORM_PAGES:
        # Why: under "no-referrer" a browser sends "Origin: null" with a form's POST (manage,
        # follow), which the origin check must refuse; "same-origin" sends the real origin, and
        # the page's address (a manage token) still never leaves the site.
        response.headers["Referrer-Policy"] = "same-origin"
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "no-store"  # pages reached by a token show an address
    return response


def _bad_link(error: SubscriptionError) -> ResponseReturnValue:
    return render_template("message.html", title="This link does not work", message=str(error)), 400


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if api.is_api_request():  # a JSON client gets its errors as JSON
        return api.problem_response(code, error.name, error.description or "", error.get_headers())
    page = render_template("message.html", title=f"{code} {error.name}", message=error.description or "")
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return page, code, headers


def _internal_error(error: Exception) -> ResponseReturnValue:
    log.exception("error serving %s %s", request.method, request.path)
    message = "Something went wrong on our side; nothing was changed. Please try again later."
    if api.is_api_request():
        return api.problem_response(500, "Server error", message)
    return render_template("message.html", title="Server error", message=message), 500


@web.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Say "ok" when the database answers."""
    with transaction() as session:
        session.execute(text("SELECT 1"))
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
