"""`pqwatch status`: what the operator needs at a glance, as one frozen view. Every configured
source with its schedule, last run (from `crawl_runs`) and next run; the mass change holds
waiting for a decision; subscriptions by state; the digests due next; and how far change
detection has got; with Scrapyd nodes, each node as it answered (the caller asks them) and the
crawl jobs dispatched to them.

Why the schedule-derived times come in from the caller (`ConfiguredSource.next_run`, a
`DigestSlots` function): the schedules are the scheduler's (APScheduler's cron triggers) and
digest periods are the digest's (monitor.notify.digest), and queries import neither; the CLI
passes them in, so this module reads the database and the clock it is given, nothing else."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from monitor.queries.views import HoldView, holds, utc_text
from storage.models import CrawlJob, CrawlRun, DetectCursor, DetectedVersion, OutboxMail, Subscriber, Version
from storage.terms import CrawlOutcome, Frequency, HoldState, JobState, SubscriberStatus, utcnow


@dataclass(frozen=True, slots=True)
class ConfiguredSource:
    """One source of the config as the caller knows it: its name, spider, crontab schedule
    (Europe/London) and when its schedule next fires (naive UTC; None: never again)."""

    name: str
    spider: str
    schedule: str | None  # None: crawled by hand only, not in the config
    next_run: datetime | None


@dataclass(frozen=True, slots=True)
class DigestSlot:
    """Where one subscription's digest schedule stands at a moment: the key of the latest digest
    period begun (None for immediate digests, which have no periods) and when the next begins
    (naive UTC; None for immediate digests, sent after each crawl that finds changes)."""

    current_key: str | None
    next_due: datetime | None


# (frequency, send_time, now) -> DigestSlot; raises ValueError for a send time unfit to schedule.
DigestSlots = Callable[[str, str, datetime], DigestSlot]


@dataclass(frozen=True, slots=True)
class RunView:
    """One recorded crawl run (a `crawl_runs` row)."""

    started_at: datetime  # UTC
    finished_at: datetime | None  # None: still running, or its process died
    outcome: CrawlOutcome
    counts: Mapping[str, int]
    reason: str | None  # why it failed; None when it did not
    trigger: str  # schedule | manual

    @property
    def seconds(self) -> float | None:
        """How long it took, in seconds (None while it has not finished)."""
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 1)

    def as_json(self) -> dict[str, Any]:
        """The contract's form: {"started_at", "finished_at", "seconds", "outcome", "counts",
        "reason", "trigger"}."""
        return {
            "started_at": utc_text(self.started_at),
            "finished_at": None if self.finished_at is None else utc_text(self.finished_at),
            "seconds": self.seconds,
            "outcome": self.outcome.value,
            "counts": dict(self.counts),
            "reason": self.reason,
            "trigger": self.trigger,
        }


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source: its schedule, its last recorded run and its next scheduled one."""

    name: str
    spider: str
    schedule: str | None  # crontab, Europe/London; None: not in the config (crawled by hand)
    next_run: datetime | None  # UTC
    last_run: RunView | None  # None: never run

    def as_json(self) -> dict[str, Any]:
        """The contract's form: {"name", "spider", "schedule", "next_run", "last_run"}."""
        return {
            "name": self.name,
            "spider": self.spider,
            "schedule": self.schedule,
            "next_run": None if self.next_run is None else utc_text(self.next_run),
            "last_run": None if self.last_run is None else self.last_run.as_json(),
        }


@dataclass(frozen=True, slots=True)
class DigestDue:
    """The next digests of one frequency: when the next is due and for how many subscriptions."""

    frequency: Frequency
    next_due: datetime | None  # UTC; None for immediate digests, or when none is confirmed
    subscriptions: int  # confirmed subscriptions due at next_due (immediate: every confirmed one)
    confirmed: int  # every confirmed subscription of this frequency
    due_now: int  # of those, how many have a begun period not yet sent: the next digest run's

    def as_json(self) -> dict[str, Any]:
        """The contract's form: {"frequency", "next_due", "subscriptions", "confirmed", "due_now"}."""
        return {
            "frequency": self.frequency.value,
            "next_due": None if self.next_due is None else utc_text(self.next_due),
            "subscriptions": self.subscriptions,
            "confirmed": self.confirmed,
            "due_now": self.due_now,
        }


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """One Scrapyd node of PQWATCH_SCRAPYD_URLS as it answered just now (its URL without
    credentials; `error` when it did not answer)."""

    url: str
    reachable: bool
    running: int = 0
    pending: int = 0
    version: str | None = None  # the newest pqwatch egg deployed to it
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "reachable": self.reachable,
            "running": self.running,
            "pending": self.pending,
            "version": self.version,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class JobView:
    """One crawl job dispatched to a node (crawl_jobs)."""

    job_id: str
    source: str
    shard: int
    shards: int
    node: str
    state: str
    attempt: int
    dispatched_at: datetime
    finished_at: datetime | None
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "source": self.source,
            "shard": self.shard,
            "shards": self.shards,
            "node": self.node,
            "state": self.state,
            "attempt": self.attempt,
            "dispatched_at": utc_text(self.dispatched_at),
            "finished_at": None if self.finished_at is None else utc_text(self.finished_at),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class StatusView:
    """What `pqwatch status` shows: sources, holds waiting, subscribers, digests due, detection."""

    sources: tuple[SourceStatus, ...]
    holds_waiting: tuple[HoldView, ...]
    subscribers: tuple[tuple[SubscriberStatus, int], ...]  # every state, in SubscriberStatus order
    addresses: int  # distinct addresses among every subscription, whatever its state
    digests_due: tuple[DigestDue, ...]  # every frequency, in Frequency order
    last_detection: datetime | None  # UTC: when detection last read a version
    undetected_versions: int  # stored versions no detection has read yet
    nodes: tuple[NodeStatus, ...] = ()  # the Scrapyd nodes, when crawls are dispatched to them
    jobs: tuple[JobView, ...] = ()  # crawl jobs on nodes: every active one, then the latest ended

    def as_json(self) -> dict[str, Any]:
        """What `pqwatch status --format json` prints (README, "pqwatch status")."""
        return {
            "sources": [source.as_json() for source in self.sources],
            "holds_waiting": [hold.as_json() for hold in self.holds_waiting],
            "held_events": sum(hold.event_count for hold in self.holds_waiting),
            "subscribers": {state.value: count for state, count in self.subscribers},
            "addresses": self.addresses,
            "digests_due": [due.as_json() for due in self.digests_due],
            "last_detection": None if self.last_detection is None else utc_text(self.last_detection),
            "undetected_versions": self.undetected_versions,
            "nodes": [node.as_json() for node in self.nodes],
            "jobs": [job.as_json() for job in self.jobs],
        }

    def lines(self) -> list[str]:
        """What `pqwatch status` prints: a few short, aligned sections."""
        out = ["sources:"]
        out += _table(
            ("name", "spider", "schedule", "last run", "took", "outcome", "next run"),
            [_source_row(source) for source in self.sources],
        )
        for source in self.sources:
            run = source.last_run
            if run is not None:
                why = f"{run.reason}; " if run.reason else ""
                out.append(f"  {source.name}: {why}{counts_text(run.counts)}")
        held = sum(hold.event_count for hold in self.holds_waiting)
        out.append(f"holds waiting: {len(self.holds_waiting)} ({held} events held back)")
        out += [
            f"  {h.id}  {h.reason}: pqwatch held release {h.id} or pqwatch held discard {h.id}"
            for h in self.holds_waiting
        ]
        states = ", ".join(f"{count} {state.value}" for state, count in self.subscribers)
        out.append(f"subscriptions: {states}; {self.addresses} addresses")
        if self.digests_due:
            out.append("digests due:")
            out += _table(
                ("frequency", "next due", "subscriptions", "confirmed", "due now"),
                [_digest_row(due) for due in self.digests_due],
            )
        last = "never" if self.last_detection is None else utc_text(self.last_detection)
        out.append(f"last change detection: {last}; {self.undetected_versions} versions not yet read")
        if self.nodes:
            out.append("scrapyd nodes:")
            out += _table(
                ("node", "reachable", "running", "pending", "version"), [_node_row(n) for n in self.nodes]
            )
            out += [f"  {node.url}: {node.error}" for node in self.nodes if node.error]
        if self.jobs:
            out.append("crawl jobs (active, then the latest ended):")
            out += _table(
                ("job", "source", "node", "state", "attempt", "dispatched", "ended"),
                [_job_row(job) for job in self.jobs],
            )
            out += [f"  {job.job_id[:12]}: {job.reason}" for job in self.jobs if job.reason]
        return out


def _node_row(node: NodeStatus) -> tuple[str, ...]:
    if not node.reachable:
        return (node.url, "no", "-", "-", "-")
    return (node.url, "yes", str(node.running), str(node.pending), node.version or "not deployed")


def _job_row(job: JobView) -> tuple[str, ...]:
    source = job.source if job.shards == 1 else f"{job.source} {job.shard + 1}/{job.shards}"
    ended = "" if job.finished_at is None else utc_text(job.finished_at)
    return (
        job.job_id[:12],
        source,
        job.node,
        job.state,
        str(job.attempt),
        utc_text(job.dispatched_at),
        ended,
    )


def counts_text(counts: Mapping[str, int]) -> str:
    """A run's counts in a few words, as a crawl's summary line says them."""
    c = counts
    errors = c.get("errors", 0)
    return (
        f"{c.get('pages_fetched', 0)} pages fetched, {c.get('not_modified', 0)} not modified, "
        f"answers {c.get('answers_new', 0)} new / "
        f"{c.get('answers_changed', 0)} changed / {c.get('answers_removed', 0)} removed, "
        f"{errors} error{'' if errors == 1 else 's'}"
    )


def _source_row(source: SourceStatus) -> tuple[str, ...]:
    run = source.last_run
    next_run = "-" if source.next_run is None else utc_text(source.next_run)
    schedule = source.schedule or "by hand"
    if run is None:
        return (source.name, source.spider, schedule, "never run", "", "", next_run)
    took = "" if run.seconds is None else f"{run.seconds:g} s"
    return (source.name, source.spider, schedule, utc_text(run.started_at), took, run.outcome.value, next_run)


def _digest_row(due: DigestDue) -> tuple[str, ...]:
    if due.frequency == Frequency.IMMEDIATE:
        when = "after each crawl that finds changes"
    else:
        when = "-" if due.next_due is None else utc_text(due.next_due)
    return (due.frequency.value, when, str(due.subscriptions), str(due.confirmed), str(due.due_now))


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Rows under a header, each column as wide as its widest cell, indented two spaces."""
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]
    return [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (head, *rows)
    ]


def monitor_status(
    session: Session,
    *,
    sources: Sequence[ConfiguredSource] = (),
    digest_slots: DigestSlots | None = None,
    now: datetime | None = None,
) -> StatusView:
    """The status at `now` (naive UTC; default the clock): each configured source (and any other
    source crawled by hand, after them) with its last run, the holds waiting, subscriptions by
    state, the digests due next (when `digest_slots` says where digest periods fall; else none)
    and the state of change detection."""
    now = now or utcnow()
    mark = session.scalar(select(DetectCursor.last_version_id).where(DetectCursor.name == "changes")) or 0
    undetected = session.scalar(
        select(func.count())
        .select_from(Version)
        .where(Version.id > mark, ~exists().where(DetectedVersion.version_id == Version.id))
    )
    return StatusView(
        sources=_sources(session, sources),
        holds_waiting=tuple(holds(session, HoldState.HELD)),
        subscribers=_by_state(session),
        addresses=int(session.scalar(select(func.count(func.distinct(Subscriber.email)))) or 0),
        digests_due=() if digest_slots is None else _digests_due(session, digest_slots, now),
        last_detection=session.scalar(select(func.max(DetectedVersion.detected_at))),
        undetected_versions=int(undetected or 0),
        jobs=_jobs(session),
    )


LATEST_JOBS = 10  # ended jobs `pqwatch status` shows after the active ones


def _jobs(session: Session) -> tuple[JobView, ...]:
    """Every job still dispatched or running, then the latest ended ones."""
    active = (JobState.DISPATCHED, JobState.RUNNING)
    rows = list(session.scalars(select(CrawlJob).where(CrawlJob.state.in_(active)).order_by(CrawlJob.id)))
    rows += session.scalars(
        select(CrawlJob).where(CrawlJob.state.not_in(active)).order_by(CrawlJob.id.desc()).limit(LATEST_JOBS)
    )
    return tuple(
        JobView(
            r.job_id,
            r.source,
            r.shard,
            r.shards,
            r.node,
            r.state,
            r.attempt,
            r.dispatched_at,
            r.finished_at,
            r.reason,
        )
        for r in rows
    )


def _sources(session: Session, configured: Sequence[ConfiguredSource]) -> tuple[SourceStatus, ...]:
    """Each configured source with its latest run; then sources only ever crawled by hand."""
    latest = select(CrawlRun.source, func.max(CrawlRun.id).label("id")).group_by(CrawlRun.source).subquery()
    # Why the highest id rather than the latest start: rows are written as runs end, and two runs
    # of one source never overlap (a host busy is refused), so the last row is the latest run.
    runs = {
        run.source: run for run in session.scalars(select(CrawlRun).join(latest, latest.c.id == CrawlRun.id))
    }
    known = {source.name for source in configured}
    extra = [
        ConfiguredSource(name, runs[name].spider, None, None) for name in sorted(runs) if name not in known
    ]
    return tuple(
        SourceStatus(
            name=source.name,
            spider=source.spider,
            schedule=source.schedule,
            next_run=source.next_run,
            last_run=None if source.name not in runs else _run_view(runs[source.name]),
        )
        for source in (*configured, *extra)
    )


def _run_view(run: CrawlRun) -> RunView:
    return RunView(
        started_at=run.started_at,
        finished_at=run.finished_at,
        outcome=CrawlOutcome(run.outcome),
        counts=dict(run.counts or {}),
        reason=run.reason,
        trigger=run.trigger,
    )


def _by_state(session: Session) -> tuple[tuple[SubscriberStatus, int], ...]:
    counted = dict(session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status)).all())
    return tuple((state, int(counted.get(state, 0))) for state in SubscriberStatus)


def _digests_due(session: Session, slots: DigestSlots, now: datetime) -> tuple[DigestDue, ...]:
    """Per frequency: the earliest next period start among its confirmed subscriptions and how
    many fall due then, and how many have a begun period with no outbox row (the digest's own
    test of due-ness, monitor.notify.digest: the next digest run sends them if anything matches)."""
    confirmed = session.execute(
        select(Subscriber.id, Subscriber.frequency, Subscriber.send_time).where(
            Subscriber.status == SubscriberStatus.CONFIRMED
        )
    ).all()
    placed: dict[int, tuple[str, DigestSlot]] = {}
    for subscriber_id, frequency, send_time in confirmed:
        try:
            placed[subscriber_id] = (frequency, slots(frequency, send_time, now))
        except ValueError:  # a stored send time unfit to schedule: the digest run reports it
            continue
    keys = {slot.current_key for _, slot in placed.values() if slot.current_key}
    sent = set(
        session.execute(
            select(OutboxMail.subscriber_id, OutboxMail.period_key).where(OutboxMail.period_key.in_(keys))
        )
        if keys
        else ()
    )
    out = []
    for frequency in Frequency:
        mine = [(sid, slot) for sid, (of, slot) in placed.items() if of == frequency]
        times = [slot.next_due for _, slot in mine if slot.next_due is not None]
        next_due = min(times) if times else None
        due_now = sum(
            1 for sid, slot in mine if slot.current_key is not None and (sid, slot.current_key) not in sent
        )
        out.append(
            DigestDue(
                frequency=frequency,
                next_due=next_due,
                subscriptions=len(mine)
                if frequency == Frequency.IMMEDIATE
                else sum(t == next_due for t in times),
                confirmed=sum(1 for _, of, _ in confirmed if of == frequency),
                due_now=due_now,
            )
        )
    return tuple(out)
