"""Mass change holds: when one run changes or loses a large share of one source's answers, its events
wait under a Hold (kept from digests) until an operator releases or discards them.

A share of a handful of answers says little (2 of 3 changed is normal for a small blog), so a hold
needs a source that had at least MIN_QUESTIONS questions before the run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from monitor.changes.detect import Detection, lock_detection
from spiders.registry import KINDS
from storage.models import ChangeEvent, DetectedVersion, Hold, Source, Version
from storage.terms import ChangeKind, HoldState, SourceKind

MIN_QUESTIONS = 10
_CHUNK = 500  # ids per IN (...) list
# Kinds that do not say a known answer changed: a first sighting, a copy compared with another.
_NOT_CHANGES = (ChangeKind.NEW, ChangeKind.SOURCES_DISAGREE)


class HoldError(ValueError):
    """A hold that does not exist or was already decided; the message is one line."""


@dataclass(frozen=True)
class SourceScope:
    """The stored sources one configured source covers: a blog is its start URLs' site, the API
    is "parliament", the official pages are "pages"."""

    name: str
    kinds: tuple[SourceKind, ...]
    hosts: tuple[str, ...] = ()  # empty: every source of these kinds

    @classmethod
    def of_crawl(cls, spider: str, start_urls: Sequence[str] = ()) -> SourceScope:
        """The scope of one crawl of a spider (a blog's from its start URLs)."""
        kinds = tuple(kind for kind, spec in KINDS.items() if spec.spider == spider)
        # A site is itself with or without "www.": its posts may be on either.
        sites = [h.removeprefix("www.") for url in start_urls if (h := urlsplit(url).hostname)]
        hosts = tuple(dict.fromkeys(host for site in sites for host in (site, f"www.{site}")))
        return cls(sites[0] if sites else spider, kinds, hosts)

    def covers(self) -> ColumnElement[bool]:
        """The SQL condition on Source that picks this scope's sources."""
        condition: ColumnElement[bool] = Source.kind.in_([kind.value for kind in self.kinds])
        if self.hosts:
            sites = [f"{scheme}://{host}" for host in self.hosts for scheme in ("http", "https")]
            prefixes = [site + end for site in sites for end in ("/", ":")]
            exact = sites
            condition = condition & or_(
                Source.url.in_(exact), *(Source.url.startswith(p, autoescape=True) for p in prefixes)
            )
        return condition


@dataclass(frozen=True)
class MassChange:
    """A held mass change: how many known answers changed or vanished, and its hold."""

    hold_id: int
    source: str
    changed: int
    known: int
    threshold: float

    @property
    def share(self) -> float:
        """The share of the source's known answers that changed or vanished."""
        return self.changed / self.known

    def reason(self) -> str:
        """What changed, in a few words (stored with the hold)."""
        return (
            f"{self.changed:,} changes to {self.known:,} answers of {self.source}"
            f" ({self.share:.0%}, threshold {self.threshold * 100:g}%)"
        )

    def line(self) -> str:
        """The one line a held crawl ends with."""
        return (
            f"crawl held {self.reason()}: pqwatch held release {self.hold_id}"
            f" or pqwatch held discard {self.hold_id}"
        )


def hold_mass_change(
    session: Session, detection: Detection, scope: SourceScope, threshold: float, now: datetime
) -> MassChange | None:
    """Hold this detection's events of one source when they change too large a share of it.

    Runs in the detection's transaction, so no digest ever sees the events before their hold."""
    events = session.execute(
        select(ChangeEvent.id, ChangeEvent.question_id, ChangeEvent.kind)
        .join(Version, Version.id == ChangeEvent.version_id)
        .join(Source, Source.id == Version.source_id)
        .where(ChangeEvent.id > detection.after_event_id, scope.covers())
    ).all()
    if not events:
        return None
    new = {question for _, question, kind in events if kind == ChangeKind.NEW}
    changed = {question for _, question, kind in events if kind not in _NOT_CHANGES} - new
    if not changed:
        return None
    known = _known_before(session, detection, scope)
    if known < MIN_QUESTIONS or len(changed) / known < threshold:
        return None
    hold = Hold(
        source_kind=scope.kinds[0].value if scope.kinds else "",
        source=scope.name,
        reason="",
        event_count=len(events),
        state=HoldState.HELD,
        created_at=now,
    )
    session.add(hold)
    session.flush()
    mass = MassChange(hold.id, scope.name, len(changed), known, threshold)
    hold.reason = mass.reason()
    ids = [event_id for event_id, _, _ in events]
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            update(ChangeEvent).where(ChangeEvent.id.in_(ids[start : start + _CHUNK])).values(hold_id=hold.id)
        )
    session.flush()
    return mass


def _known_before(session: Session, detection: Detection, scope: SourceScope) -> int:
    """How many questions the scope's sources had shown before this detection read its versions."""
    count = session.scalar(
        select(func.count(func.distinct(Version.question_id)))
        .join(Source, Source.id == Version.source_id)
        .outerjoin(DetectedVersion, DetectedVersion.version_id == Version.id)
        .where(
            scope.covers(),
            # Read by an earlier detection, or below the low-water mark (no marker).
            or_(DetectedVersion.version_id.is_(None), DetectedVersion.detected_at != detection.detected_at),
        )
    )
    return int(count or 0)


def decide_hold(session: Session, hold_id: int, state: HoldState, now: datetime) -> Hold:
    """Release or discard a held mass change.

    Released events are stored again under new ids, so digests (which read events above the last
    one each subscriber was sent) carry them; discarded ones stay, never mailed."""
    lock_detection(session)  # its renumbered events must not look like a running detection's
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise HoldError(f"no hold {hold_id}")
    if hold.state != HoldState.HELD:
        raise HoldError(f"hold {hold_id} was already {hold.state}")
    hold.state, hold.decided_at = state.value, now
    if state == HoldState.RELEASED:
        _renumber(session, hold_id)
    session.flush()
    return hold


_EVENT_COLUMNS = (
    "question_id", "version_id", "kind", "field", "old", "new", "diff", "detail",
    "source_kind", "source_url", "detected_at", "hold_id",
)  # fmt: skip


def _renumber(session: Session, hold_id: int) -> None:
    """Store a hold's events again under new ids (the same events, the same hold)."""
    held = session.scalars(select(ChangeEvent).where(ChangeEvent.hold_id == hold_id).order_by(ChangeEvent.id))
    copies = [{name: getattr(event, name) for name in _EVENT_COLUMNS} for event in held]
    session.execute(delete(ChangeEvent).where(ChangeEvent.hold_id == hold_id))
    session.flush()
    session.add_all(ChangeEvent(**values) for values in copies)
