"""What every page module shares: the blueprint its routes are on, the request's context and
database transaction, and the one check of a scraped link."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Blueprint, current_app
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from monitor.notify.digest import Mailer


@dataclass(frozen=True)
class WebContext:
    """What the views need: the database, the key that signs links, the public URL, the clock."""

    sessions: sessionmaker[Session]
    secret: str
    base_url: str
    clock: Callable[[], datetime]
    # Sends the confirmation mail of a subscription made on a page (the follow form); None: the
    # subscription is stored, and `pqwatch resend-confirmation` can send it.
    mailer: Mailer | None = None


web = Blueprint("web", __name__)


def ctx() -> WebContext:
    context: WebContext = current_app.extensions["pqwatch"]
    return context


@contextmanager
def transaction() -> Iterator[Session]:
    """The request's database session: committed when the block ends, rolled back on error."""
    with ctx().sessions.begin() as session:
        yield session


def safe_href(url: object) -> str | None:
    """Return a scraped URL if it is safe to link to (http or https), else None."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.hostname else None
