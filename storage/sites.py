"""What pqwatch knows of each blog's host between crawls (the blog_sites rows): where its REST API
is or when it refused, when its last change crawl started and its last full verification."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import BlogSite


@dataclass(frozen=True)
class SiteState:
    """One blog host's row: naive UTC times, as every DateTime column here holds them."""

    host: str  # bare host, no "www."
    api_root: str | None = None
    api_refused_at: datetime | None = None
    last_change_crawl_at: datetime | None = None
    last_full_at: datetime | None = None


def load_sites(session: Session, hosts: Iterable[str]) -> dict[str, SiteState]:
    """The rows of these hosts, by host (a host never crawled has none)."""
    wanted = sorted(set(hosts))
    if not wanted:
        return {}
    rows = session.scalars(select(BlogSite).where(BlogSite.host.in_(wanted)))
    return {
        row.host: SiteState(
            row.host, row.api_root, row.api_refused_at, row.last_change_crawl_at, row.last_full_at
        )
        for row in rows
    }


def save_sites(session: Session, states: Iterable[SiteState]) -> None:
    """Write these hosts' rows whole. A cursor, not history: overwriting is right."""
    for state in states:
        row = session.get(BlogSite, state.host)
        if row is None:
            row = BlogSite(host=state.host)
            session.add(row)
        row.api_root = state.api_root
        row.api_refused_at = state.api_refused_at
        row.last_change_crawl_at = state.last_change_crawl_at
        row.last_full_at = state.last_full_at


def full_due(state: SiteState, now: datetime, days: float) -> bool:
    """Whether a host's crawl is a full verification: never verified, or not for `days` days."""
    return state.last_full_at is None or now - state.last_full_at >= timedelta(days=days)


def mark_crawled(session: Session, hosts: Iterable[str], started: datetime, full: Iterable[str]) -> None:
    """Move the cursors of hosts whose crawl finished without errors: the change crawl started
    at `started`, and for the hosts in `full` so did their full verification."""
    full_hosts = set(full)
    for host in sorted(set(hosts)):
        row = session.get(BlogSite, host)
        if row is None:
            row = BlogSite(host=host)
            session.add(row)
        row.last_change_crawl_at = started
        if host in full_hosts:
            row.last_full_at = started
