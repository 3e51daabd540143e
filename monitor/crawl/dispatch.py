"""Crawl jobs on Scrapyd nodes (PQWATCH_SCRAPYD_URLS): what a crawl does in place of its local
processes when one machine is not enough.

The leader (the scheduler holding its lock, or a manual `pqwatch crawl`) writes a `crawl_jobs`
row, then schedules the job under the row's id on the least loaded node that answers
(daemonstatus.json); a node that is down or refuses is skipped. The job runs `scrapy crawl` on
the node (monitor.crawl.scrapy_commands.crawl): it claims its row (dispatched -> running), takes
the per-host locks in the shared PostgreSQL, crawls and stores, and reports its counts on the row;
it detects nothing. The leader polls the row and the node's listjobs.json until the job ends,
then detects changes and sends immediate digests as after a local crawl (monitor.crawl.runner).

A job its node lost (its process killed, the node restarted or gone, so the node no longer runs it
and it never reported) is marked lost, cancelled on its node where that still answers, and
dispatched once more, to another node where one answers. A job that starts after its row left
"dispatched" (lost meanwhile, and re-dispatched) does not crawl, so one job id never crawls twice;
a lost job still running somewhere unseen (a partitioned node) holds its hosts' locks, so its
re-dispatch waits for it: no host ever sees the two at once.

A blog configured with `shards = N` is N jobs, each reading the posts that hash to it, run one
after another (they share the blog's host); crawls of different hosts run on nodes side by side."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from monitor.crawl.processes import BLOG_SPIDER, CrawlOptions, ProcessReport
from monitor.crawl.scrapyd import Node, NodeError
from spiders.arguments import as_text
from storage.models import CrawlJob
from storage.terms import JobState, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("pqwatch.crawl")

ENDED = (JobState.FINISHED, JobState.FAILED)
ENDING = (JobState.DISPATCHED, JobState.RUNNING)  # the states a job can be moved on from
NODE_RETRY = 2.0  # seconds between rounds of asking every node while none answers
# Why one lock: two crawls dispatching at once would both read the same loads and pick one node.
_PICKING = threading.Lock()
# Every job this process has dispatched and is watching: job id -> its node (for cancel_jobs).
_WATCHED: dict[str, Node] = {}
_WATCHED_LOCK = threading.Lock()


class NoNode(RuntimeError):
    """No Scrapyd node answered (or every one refused) within the wait."""


@dataclass(frozen=True)
class Clock:
    """The time and the sleep a dispatch uses (tests pass their own)."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def dispatch_crawl(
    sessions: sessionmaker[Session],
    db_url: str,
    source: str,
    spider: str,
    spider_args: dict[str, Any],
    options: CrawlOptions,
    clock: Clock = Clock(),
) -> list[ProcessReport]:
    """Run one crawl as jobs on the nodes of `options.nodes`; each job's report, in order."""
    nodes = [Node(url) for url in options.nodes]
    shards = max(1, options.shards) if spider == BLOG_SPIDER else 1
    reports = []
    for shard in range(shards):  # one after another: every shard reads the same host
        args = spider_args if shards == 1 else {**spider_args, "shard": shard, "shards": shards}
        job = _Job(sessions, nodes, source, spider, args, shard, shards, _job_settings(db_url, options))
        reports.append(job.run(options, clock))
    return reports


def cancel_jobs(sessions: sessionmaker[Session]) -> int:
    """Cancel every job this process is watching (on its node, where that answers) and mark it
    failed, so its watch ends; how many. For a stop the operator asked for (Ctrl-C, a second
    SIGTERM), never for a lost scheduler lock: those jobs run on, their stores kept."""
    with _WATCHED_LOCK:
        watched = dict(_WATCHED)
    for job_id, node in watched.items():
        _settle(sessions, job_id, JobState.FAILED, "cancelled: its crawl was stopped", ENDING)
        try:
            node.cancel(job_id)
        except NodeError as error:
            log.warning("job %s: could not cancel it: %s", job_id, error)
        else:
            log.warning("job %s: cancelled on %s", job_id, node.name)
    return len(watched)


def _job_settings(db_url: str, options: CrawlOptions) -> dict[str, str]:
    """The Scrapy settings a job runs with: the leader's database and politeness, not the node's."""
    settings = {
        "PQWATCH_DB_URL": db_url,
        "DOWNLOAD_DELAY": str(options.delay),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(options.concurrency),
        "PQWATCH_RETRY_BASE_DELAY": str(options.retry_base_delay),
        "DOWNLOAD_TIMEOUT": str(options.timeout),
        "PQWATCH_HOST_LOCK_WAIT": str(options.host_lock_wait),
        "PQWATCH_FULL_VERIFY_DAYS": str(options.full_verify_days),
    }
    if options.delay == 0:  # as spiders.run: AutoThrottle would raise the delay again
        settings["AUTOTHROTTLE_ENABLED"] = "False"
    if options.allow_private_addresses:
        settings["PQWATCH_ALLOW_PRIVATE_ADDRESSES"] = "1"
    return settings


class _Job:
    """One job of a crawl, through its dispatch, its watch, and at most one re-dispatch."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        nodes: list[Node],
        source: str,
        spider: str,
        args: dict[str, Any],
        shard: int,
        shards: int,
        settings: dict[str, str],
    ) -> None:
        self.sessions, self.nodes, self.source, self.spider = sessions, nodes, source, spider
        self.args, self.shard, self.shards, self.settings = as_text(args), shard, shards, settings
        self.label = source if shards == 1 else f"{source} (shard {shard + 1} of {shards})"

    def run(self, options: CrawlOptions, clock: Clock) -> ProcessReport:
        lost_on: set[str] = set()
        for attempt in (1, 2):
            try:
                node, job_id = self._place(attempt, lost_on, options.node_wait, clock)
            except NoNode as error:
                log.error("crawl %s: %s", self.label, error)
                return ProcessReport(1, None, f"{error}")
            with _WATCHED_LOCK:
                _WATCHED[job_id] = node
            try:
                lost = self._watch(node, job_id, options, clock)
            except KeyboardInterrupt:  # Ctrl-C on `pqwatch crawl`: its job stops with it
                cancel_jobs(self.sessions)
                raise
            finally:
                with _WATCHED_LOCK:
                    _WATCHED.pop(job_id, None)
            if lost is None:
                return self._report(job_id)
            lost_on.add(node.name)
            if attempt == 1:
                log.warning("crawl %s: job %s %s; dispatching it once more", self.label, job_id, lost)
            else:
                log.error("crawl %s: job %s %s again; giving up", self.label, job_id, lost)
                return ProcessReport(1, None, f"its job was lost twice ({lost})")
        raise AssertionError("unreachable")  # the loop returns on its second attempt

    def _place(self, attempt: int, lost_on: set[str], wait: float, clock: Clock) -> tuple[Node, str]:
        """Schedule the job on the least loaded node that answers and takes it, preferring one
        that has not lost it; wait up to `wait` seconds for one to answer, then raise NoNode."""
        deadline = clock.now() + wait
        refused: set[str] = set()
        while True:
            # Why under one lock, loads read to job scheduled: crawls dispatching at once would
            # otherwise all read the same loads and pick the same node.
            with _PICKING:
                loads, errors = _loads([node for node in self.nodes if node.name not in refused])
                for node in _by_preference(loads, lost_on):
                    job_id = self._dispatch(node, attempt)
                    if job_id is not None:
                        return node, job_id
                    refused.add(node.name)
            if not errors:
                raise NoNode("every Scrapyd node refused the job (see the lines above)")
            if clock.now() >= deadline:
                raise NoNode(f"no Scrapyd node answered within {wait:g} s: {'; '.join(errors)}")
            clock.sleep(NODE_RETRY)

    def _dispatch(self, node: Node, attempt: int) -> str | None:
        """Write the job's row and schedule it on `node`; its id, or None when the node refused."""
        job_id = uuid.uuid4().hex
        with self.sessions.begin() as session:
            session.add(
                CrawlJob(
                    job_id=job_id,
                    source=self.source,
                    spider=self.spider,
                    node=node.name,
                    shard=self.shard,
                    shards=self.shards,
                    attempt=attempt,
                    state=JobState.DISPATCHED,
                    dispatched_at=utcnow(),
                    counts={},
                )
            )
        try:
            node.schedule(self.spider, job_id, self.args, self.settings)
        except NodeError as error:
            log.warning("crawl %s: %s; trying another node", self.label, error)
            _settle(self.sessions, job_id, JobState.FAILED, f"not scheduled: {error}")
            return None
        log.info("crawl %s: job %s dispatched to %s", self.label, job_id, node.name)
        return job_id

    def _watch(self, node: Node, job_id: str, options: CrawlOptions, clock: Clock) -> str | None:
        """Wait for the job to end; None when it reported, else how it was lost (it is marked so)."""
        silent_since: float | None = None
        while True:
            clock.sleep(options.node_poll)
            if _state(self.sessions, job_id) in ENDED:
                return None
            try:
                where = node.job_states().get(job_id)
            except NodeError as error:
                silent_since = clock.now() if silent_since is None else silent_since
                if clock.now() - silent_since < options.node_lost_after:
                    continue
                how = f"was lost: {error} for {options.node_lost_after:g} s"
            else:
                silent_since = None
                if where in ("pending", "running"):
                    continue
                # Read after the node's list: a job that reported and ended is seen as reported.
                if _state(self.sessions, job_id) in ENDED:
                    return None
                how = (
                    f"ended on {node.name} without reporting (its process died)"
                    if where == "finished"
                    else f"is no longer known to {node.name} (the node restarted?)"
                )
            if not _settle(
                self.sessions, job_id, JobState.LOST, how, (JobState.DISPATCHED, JobState.RUNNING)
            ):
                return None  # it reported just now
            try:
                node.cancel(job_id)  # a job still queued there must not start later (it would not crawl)
            except NodeError:
                pass
            return how

    def _report(self, job_id: str) -> ProcessReport:
        with self.sessions() as session:
            row = session.scalars(select(CrawlJob).where(CrawlJob.job_id == job_id)).one()
            ok = row.state == JobState.FINISHED
            log.info("crawl %s: job %s %s on %s", self.label, job_id, row.state, row.node)
            return ProcessReport(0 if ok else 1, dict(row.counts), None if ok else row.reason)


def _loads(nodes: list[Node]) -> tuple[list[tuple[int, int, Node]], list[str]]:
    """Each node that answers daemonstatus.json with its jobs (and its place), and why the others
    did not answer."""
    loads: list[tuple[int, int, Node]] = []
    errors: list[str] = []
    for index, node in enumerate(nodes):
        try:
            loads.append((node.load().busy, index, node))
        except NodeError as error:
            errors.append(str(error))
    return loads, errors


def _by_preference(loads: list[tuple[int, int, Node]], lost_on: set[str]) -> list[Node]:
    """The nodes to try, best first: those that did not lose the job before those that did,
    each the least loaded first."""
    return [node for _, _, node in sorted(loads, key=lambda entry: (entry[2].name in lost_on, entry[:2]))]


def _state(sessions: sessionmaker[Session], job_id: str) -> str | None:
    with sessions() as session:
        return session.scalar(select(CrawlJob.state).where(CrawlJob.job_id == job_id))


def _settle(
    sessions: sessionmaker[Session],
    job_id: str,
    state: JobState,
    reason: str,
    from_states: tuple[JobState, ...] = (JobState.DISPATCHED,),
) -> bool:
    """Move a job's row to `state` if it is still in one of `from_states`; whether it moved."""
    with sessions.begin() as session:
        moved = session.execute(
            update(CrawlJob)
            .where(CrawlJob.job_id == job_id, CrawlJob.state.in_(from_states))
            .values(state=state, reason=reason, finished_at=utcnow())
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]


# The node's side: the job's own process (monitor.crawl.scrapy_commands.crawl).

UNKNOWN = "unknown"  # claim_job: no row has this id (the job was scheduled by hand, not by pqwatch)


def claim_job(sessions: sessionmaker[Session], job_id: str) -> str:
    """Claim a dispatched job's row for this process: "running" when claimed, UNKNOWN when no
    row has the id, else the row's state (lost, failed: it must not crawl)."""
    with sessions.begin() as session:
        moved = session.execute(
            update(CrawlJob)
            .where(CrawlJob.job_id == job_id, CrawlJob.state == JobState.DISPATCHED)
            .values(state=JobState.RUNNING, started_at=utcnow())
        )
        if moved.rowcount:  # type: ignore[attr-defined]
            return JobState.RUNNING
        state = session.scalar(select(CrawlJob.state).where(CrawlJob.job_id == job_id))
        return UNKNOWN if state is None else str(state)


def report_job(
    sessions: sessionmaker[Session], job_id: str, counts: dict[str, Any], reason: str | None
) -> bool:
    """Report a claimed job's counts (and why it failed, if it did); False when the row is no
    longer running (the leader gave it up as lost: its counts are not read)."""
    state = JobState.FAILED if reason or counts.get("errors", 0) else JobState.FINISHED
    with sessions.begin() as session:
        moved = session.execute(
            update(CrawlJob)
            .where(CrawlJob.job_id == job_id, CrawlJob.state == JobState.RUNNING)
            .values(state=state, counts=counts, reason=reason, finished_at=utcnow())
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]
