"""Peers benchmark (issues 5 and 11): pqwatch against urlwatch and a bare fetch-and-hash floor, on
one generated blog served on 127.0.0.1 as WordPress serves it (pages, REST API, core sitemaps,
feed), at one concurrency, in one run.

    python -m bench.peers [--posts 1000] [--concurrency 4] [--skip-urlwatch] [--timeout 1200]

Generation 1 of monitor.demo.sample_blog is served and every runner takes its baseline; then generation
2 (5% of posts touched: answer text edited, answer dates moved, furniture-only edits; footer
timestamp and nonce churn on every page) is swapped in and every runner looks again. pqwatch runs
in three modes, each with its own database: the REST API on; the API refused (401) so core
sitemaps with lastmod are read; neither, so the feed, the listings and conditional GETs are. Each runner is
its own subprocess, started by a small launcher that measures it with os.wait4: wall time, CPU
time (user + system of it and the children it reaped) and peak RSS (the largest process of that
tree). Accuracy is scored against the generator's manifest: per answer (path, uin, date tabled,
kind) for pqwatch, per page for everyone. Prints a table and writes bench/out/peers-{posts}.json.
Figures, not assertions."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import peers_urlwatch

# Only the standard library and bench.peers_urlwatch are imported here: the floor's subprocess
# runs this module too, and its peak RSS should hold what the floor needs and nothing else.

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).with_name("out")
PQWATCH = Path(sys.executable).with_name("pqwatch")
ANSWER_KINDS = ("answer_text_changed", "answer_date_changed")
FLOOR_SELECTOR = "entry-content"  # the class of the post body in the generated (Divi) markup
# Runs one runner and writes its wall time, CPU time and peak RSS (os.wait4) to a JSON file. Why a
# launcher: a child's ru_maxrss starts from the RSS of the process that spawned it (Linux carries the
# spawner's high-water mark across fork/vfork and exec), and this benchmark holds both generations
# of the site in memory; the launcher (python -S, about 8 MiB) is the spawner instead.
LAUNCHER = """\
import json, os, sys, time
started = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
figures = {"wall": time.perf_counter() - started, "user": usage.ru_utime, "sys": usage.ru_stime}
figures["kib"] = usage.ru_maxrss
with open(sys.argv[1], "w") as out:
    json.dump(figures, out)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class Usage:
    """What one measured subprocess cost."""

    wall_s: float
    cpu_s: float | None  # None: the runner was killed before its launcher could measure it
    cpu_user_s: float | None
    cpu_sys_s: float | None
    peak_rss_mib: float | None
    exit_code: int
    killed: bool  # ran past the timeout
    measured: bool  # the launcher wrote its figures
    site_cpu_s: float  # CPU of this benchmark process meanwhile: mostly LocalSite serving
    others_cpu_s: float  # CPU of every other process on the machine meanwhile: contention
    requests: int
    statuses: dict[int, int]


@dataclass
class Context:
    """What every runner shares: the site, the post paths, the truth, the limits."""

    site: Any  # monitor.demo.site.LocalSite
    work: Path
    concurrency: int
    timeout: float
    paths: list[str]
    manifest: list[dict[str, str]] = field(default_factory=list)
    commands: dict[str, list[str]] = field(default_factory=dict)

    @property
    def true_pages(self) -> set[str]:
        """Paths of the posts with a true answer change."""
        return {m["path"] for m in self.manifest}


def slug(label: str) -> str:
    """A file name for a label: its letters and digits, dashes between."""
    return re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-")


def runner_file(ctx: Context, label: str, extension: str) -> Path:
    """A file of one runner's, named after its label."""
    return ctx.work / f"{slug(label)}.{extension}"


def measure(ctx: Context, label: str, cmd: list[str], env: dict[str, str] | None = None) -> Usage:
    """Run `cmd` through LAUNCHER in its own session, stdout and stderr in files named after `label`."""
    ctx.commands[label] = cmd
    figures = runner_file(ctx, label, "usage.json")
    first = len(ctx.site.requests)
    self_before, machine_before = resource.getrusage(resource.RUSAGE_SELF), machine_cpu()
    launcher = [sys.executable, "-S", "-c", LAUNCHER, str(figures), *cmd]
    with runner_file(ctx, label, "out").open("wb") as out, runner_file(ctx, label, "err").open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(launcher, stdout=out, stderr=err, env=env, cwd=ROOT, start_new_session=True)
        killed = False
        try:
            proc.wait(timeout=ctx.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this benchmark started for this runner
            proc.wait()
            killed = True
        except BaseException:  # Ctrl-C or SIGTERM: the runner's own session would outlive us
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        wall = time.perf_counter() - started
    self_after, machine_after = resource.getrusage(resource.RUSAGE_SELF), machine_cpu()
    statuses = Counter(code for _, _, code in ctx.site.requests[first:])
    measured = figures.exists()
    child = json.loads(figures.read_text()) if measured else {}
    site_cpu = _cpu(self_after) - _cpu(self_before)
    others = machine_after - machine_before - site_cpu - child.get("user", 0) - child.get("sys", 0)
    return Usage(
        wall_s=round(child.get("wall", wall), 2),
        cpu_s=_rounded(child, "user", "sys"),
        cpu_user_s=_rounded(child, "user"),
        cpu_sys_s=_rounded(child, "sys"),
        peak_rss_mib=_rounded(child, "kib", scale=1 / 1024, digits=1),
        exit_code=proc.returncode,
        killed=killed,
        measured=measured,
        site_cpu_s=round(site_cpu, 2),
        others_cpu_s=round(max(others, 0), 2),
        requests=sum(statuses.values()),
        statuses=dict(statuses),
    )


def _rounded(figures: dict[str, float], *keys: str, scale: float = 1, digits: int = 2) -> float | None:
    """The sum of the launcher's figures under `keys`, scaled and rounded; None when it wrote none."""
    return round(sum(figures[k] for k in keys) * scale, digits) if figures else None


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def machine_cpu() -> float:
    """CPU seconds every process on the machine has used since boot (Linux /proc/stat; else 0)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def output(ctx: Context, label: str) -> str:
    """The stdout a measured runner left."""
    return runner_file(ctx, label, "out").read_text("utf-8")


def score_pages(flagged: set[str], truth: set[str]) -> dict[str, int]:
    """Page-level accuracy: flagged pages against the pages with a true answer change."""
    return {"found": len(flagged & truth), "false": len(flagged - truth), "misses": len(truth - flagged)}


def score_answers(events: list[dict[str, Any]], manifest: list[dict[str, str]]) -> dict[str, int]:
    """Answer-level accuracy: each event is a true change (once) or a false one."""
    truth = {(m["path"], m["uin"], m["date_tabled"], m["kind"]) for m in manifest}
    matched: set[tuple[str, ...]] = set()
    false = 0
    for e in events:
        key = (urlsplit(e["source_url"] or "").path, e["uin"], e["date_tabled"], e["kind"])
        if e["kind"] in ANSWER_KINDS and key in truth and key not in matched:
            matched.add(key)
        else:
            false += 1
    return {"found": len(matched), "false": false, "misses": len(truth - matched)}


def row(label: str, generation: int, usage: Usage, **extra: Any) -> dict[str, Any]:
    """One line of the results."""
    rate = round(usage.requests / usage.wall_s, 1) if usage.requests and usage.wall_s else None
    return {"runner": label, "generation": generation, **usage.__dict__, "pages_per_s": rate, **extra}


# pqwatch ------------------------------------------------------------------------------------------


def pqwatch_env() -> dict[str, str]:
    """pqwatch's environment: no download delay (the --db, --delay and --concurrency flags do the rest)."""
    # The sample blog is on 127.0.0.1, which the SSRF guard refuses unless told.
    return {**os.environ, "PQWATCH_DOWNLOAD_DELAY": "0", "PQWATCH_ALLOW_PRIVATE_ADDRESSES": "1"}


# How pqwatch finds the blog's posts in each measured mode: what the site offers it.
MODES: dict[str, dict[str, object]] = {
    "API": {"api": "on", "sitemaps": True},  # the WordPress REST API, as WordPress serves by default
    "sitemaps": {"api": 401, "sitemaps": True},  # the API refused (a security plugin): core sitemaps
    "pages": {"api": 401, "sitemaps": False},  # no API, no sitemap: feed, listings, conditional GETs
}


def pqwatch_db(ctx: Context, mode: str) -> str:
    """The database of one mode's pqwatch runs."""
    return f"sqlite:///{ctx.work / f'bench-{slug(mode)}.sqlite3'}"


def pqwatch_crawl(
    ctx: Context, label: str, generation: int, mode: str = "API", start: str = "/"
) -> dict[str, Any]:
    """Crawl the blog from its home page, as a user would, with the site offering what `mode` says."""
    for name, value in MODES[mode].items():
        setattr(ctx.site, name, value)
    cmd = [str(PQWATCH), "--db", pqwatch_db(ctx, mode), "crawl", "blog", "--start-url", ctx.site.url + start]
    cmd += ["--delay", "0", "--concurrency", str(ctx.concurrency)]
    usage = measure(ctx, label, cmd, pqwatch_env())
    return row(label, generation, usage, mode=mode, summary=output(ctx, label).strip().splitlines()[-1:])


def pqwatch_changes(
    ctx: Context, since: str, mode: str = "API"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ask pqwatch what changed since the change crawl started; return its row and the events."""
    label = f"pqwatch changes --format json ({mode})"
    cmd = [str(PQWATCH), "--db", pqwatch_db(ctx, mode), "changes", "--format", "json", "--since", since]
    usage = measure(ctx, label, cmd, pqwatch_env())
    events = json.loads(output(ctx, label) or "[]")
    return row(label, 2, usage, events=len(events)), events


def score_pqwatch(crawl: dict[str, Any], events: list[dict[str, Any]], ctx: Context) -> None:
    """Add answer- and page-level accuracy to the change crawl's row."""
    flagged = {urlsplit(e["source_url"] or "").path for e in events}
    crawl["answers"] = score_answers(events, ctx.manifest)
    crawl["pages"] = score_pages(flagged, ctx.true_pages)
    crawl["event_kinds"] = dict(Counter(e["kind"] for e in events))


# The bare floor --------------------------------------------------------------------------------


def hash_posts(base: str, paths: list[str], concurrency: int) -> tuple[dict[str, str], int]:
    """Fetch every path over keep-alive connections (one per worker); hash the post body's text."""
    from http.client import HTTPConnection, HTTPException

    from lxml import html

    host, port = urlsplit(base).hostname, urlsplit(base).port
    local = threading.local()

    def fetch(path: str) -> bytes | None:
        for _ in range(2):  # once more on a fresh connection if the server dropped an idle one
            conn = getattr(local, "conn", None) or HTTPConnection(host or "127.0.0.1", port, timeout=30)
            local.conn = conn
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                return body if response.status == 200 else None
            except (OSError, HTTPException):
                conn.close()
                local.conn = None
        return None

    def one(path: str) -> tuple[str, str | None]:
        body = fetch(path)
        if body is None:
            return path, None
        nodes = html.fromstring(body).find_class(FLOOR_SELECTOR)
        text = nodes[0].text_content() if nodes else ""
        return path, hashlib.sha1(text.encode()).hexdigest()

    with ThreadPoolExecutor(concurrency) as pool:
        results = dict(pool.map(one, paths))
    hashes = {p: h for p, h in results.items() if h is not None}
    return hashes, len(results) - len(hashes)


def floor_main(argv: list[str]) -> int:
    """The floor's subprocess: hash every post, compare with the previous pass, write the result."""
    parser = argparse.ArgumentParser(prog="python -m bench.peers _floor")
    parser.add_argument("--base", required=True)
    parser.add_argument("--paths", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--previous", type=Path)
    args = parser.parse_args(argv)
    hashes, errors = hash_posts(args.base, args.paths.read_text().split(), args.concurrency)
    previous = json.loads(args.previous.read_text())["hashes"] if args.previous else {}
    changed = sorted(p for p, h in hashes.items() if p in previous and previous[p] != h)
    args.out.write_text(json.dumps({"hashes": hashes, "changed": changed, "errors": errors}))
    return 1 if errors else 0


def floor_pass(ctx: Context, label: str, generation: int) -> dict[str, Any]:
    """Run one floor pass; the second compares with the first."""
    paths_file = ctx.work / "post-paths.txt"
    paths_file.write_text("\n".join(ctx.paths) + "\n")
    result = ctx.work / f"floor-{generation}.json"
    cmd = [sys.executable, "-m", "bench.peers", "_floor", "--base", ctx.site.url, "--paths", str(paths_file)]
    cmd += ["--concurrency", str(ctx.concurrency), "--out", str(result)]
    if generation > 1:
        cmd += ["--previous", str(ctx.work / f"floor-{generation - 1}.json")]
    usage = measure(ctx, label, cmd)
    empty: dict[str, Any] = {"hashes": {}, "changed": [], "errors": -1}
    data: dict[str, Any] = json.loads(result.read_text()) if result.exists() else empty
    extra: dict[str, Any] = {"hashed": len(data["hashes"]), "fetch_errors": data["errors"]}
    if generation > 1:
        extra["pages"] = score_pages(set(data["changed"]), ctx.true_pages)
    return row(label, generation, usage, **extra)


def scrapy_pass(ctx: Context, label: str, generation: int) -> dict[str, Any]:
    """Scrapy alone, with pqwatch's settings, fetching every post and doing nothing with it."""
    paths_file = ctx.work / "post-paths.txt"
    paths_file.write_text("\n".join(ctx.paths) + "\n")
    cmd = [sys.executable, "-m", "bench.peers_scrapy", "--base", ctx.site.url, "--paths", str(paths_file)]
    cmd += ["--concurrency", str(ctx.concurrency)]
    return row(label, generation, measure(ctx, label, cmd))


# urlwatch --------------------------------------------------------------------------------------


def urlwatch_pass(ctx: Context, exe: Path, variant: str, generation: int) -> dict[str, Any]:
    """Run every job of one urlwatch variant once; the second pass reports what changed."""
    folder = ctx.work / slug(f"urlwatch {variant}")
    if generation == 1:
        urls = [ctx.site.url + p for p in ctx.paths]
        peers_urlwatch.write_job_files(folder, urls, peers_urlwatch.VARIANTS[variant], ctx.concurrency)
    label = f"urlwatch {variant}" + (" (baseline)" if generation == 1 else "")
    env = peers_urlwatch.environment(folder, dict(os.environ))
    usage = measure(ctx, label, peers_urlwatch.command(exe, folder), env)
    verbs = peers_urlwatch.parse_report(output(ctx, label))
    counts = {verb.lower(): len(urls) for verb, urls in verbs.items()}
    extra: dict[str, Any] = {"report": counts}
    if generation > 1:
        flagged = {urlsplit(u).path for u in verbs.get("CHANGED", set())}
        extra["pages"] = score_pages(flagged, ctx.true_pages)
    return row(label, generation, usage, **extra)


# The run ---------------------------------------------------------------------------------------


def run(
    posts: int, concurrency: int, skip_urlwatch: bool, timeout: float, server_nagle: bool = False
) -> dict[str, Any]:
    """Serve generation 1, take every baseline, serve generation 2, measure every change pass."""
    from bench.peers_wordpress import SampleWordPress, edited_paths
    from monitor.demo.sample_blog import generate_blog  # late: the floor's subprocess does not need them

    exe, urlwatch_note = None, "skipped (--skip-urlwatch)"
    if not skip_urlwatch:
        exe, urlwatch_note = peers_urlwatch.ensure_urlwatch(OUT / "urlwatch-venv")
        if exe is None:
            print(f"urlwatch is not available, so it is left out: {urlwatch_note}", file=sys.stderr)
    variants = list(peers_urlwatch.VARIANTS) if exe else []
    rows: list[dict[str, Any]] = []
    server = SampleWordPress()
    # LocalServer sets TCP_NODELAY as real servers do; --server-nagle measures without it.
    server.nodelay = not server_nagle
    with tempfile.TemporaryDirectory(prefix="pqwatch-peers-") as folder, server as site:
        first = generate_blog(posts, generation=1, base_url=site.url)
        site.load(first)
        ctx = Context(site, Path(folder), concurrency, timeout, sorted(set(first.redirects.values())))
        for mode in MODES:
            rows.append(pqwatch_crawl(ctx, f"pqwatch first crawl ({mode})", 1, mode))
        # The fixed cost of one pqwatch crawl (start-up, robots.txt, one unchanged post), to take
        # off before dividing CPU by posts.
        rows.append(pqwatch_crawl(ctx, "pqwatch start-up (one post, 304)", 1, "pages", ctx.paths[0]))
        rows += [urlwatch_pass(ctx, exe, v, 1) for v in variants] if exe else []
        rows.append(floor_pass(ctx, "floor fetch+hash (baseline)", 1))
        second = generate_blog(posts, generation=2, base_url=site.url)
        site.load(second, edited_paths(second))
        ctx.manifest = second.manifest
        since = datetime.now(UTC).isoformat()
        for mode in MODES:
            crawl = pqwatch_crawl(ctx, f"pqwatch change crawl ({mode})", 2, mode)
            report, events = pqwatch_changes(ctx, since, mode)
            score_pqwatch(crawl, events, ctx)
            rows += [crawl, report]
        # Nothing changed since: every post a 304 (the generated pages change on every render
        # between generations, as WordPress pages with nonces do, so only this run measures 304s).
        rows.append(pqwatch_crawl(ctx, "pqwatch unchanged re-crawl (pages)", 2, "pages"))
        rows += [urlwatch_pass(ctx, exe, v, 2) for v in variants] if exe else []
        rows.append(floor_pass(ctx, "floor fetch+hash", 2))
        rows.append(scrapy_pass(ctx, "scrapy fetch only (pqwatch settings)", 2))
        commands = {k: [part.replace(folder, "$TMP") for part in v] for k, v in ctx.commands.items()}
    return {
        "posts": posts,
        "concurrency": concurrency,
        "truth": {"answer_changes": len(second.manifest), "pages": len({m["path"] for m in second.manifest})},
        "posts_served": len(ctx.paths),
        "pages_served": len(second.pages),
        "urlwatch": {
            "version": urlwatch_note,
            "requirement": peers_urlwatch.REQUIREMENT,
            "filters": {v: peers_urlwatch.VARIANTS[v] for v in variants},
            "options": peers_urlwatch.OPTIONS.format(concurrency=concurrency),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "site_tcp_nodelay": not server_nagle,
        "per_post": per_post_costs(rows, posts),
        "revision": revision(),
        "started": since,
        "rows": rows,
        "commands": commands,
    }


def per_post_costs(rows: list[dict[str, Any]], posts: int) -> dict[str, float | None]:
    """pqwatch's CPU per post it read and per 304, its start-up cost taken off (milliseconds)."""
    by_name = {r["runner"]: r for r in rows}
    base = by_name.get("pqwatch start-up (one post, 304)", {}).get("cpu_s")

    def per(runner: str, count: int) -> float | None:
        cpu = by_name.get(runner, {}).get("cpu_s")
        return (
            round((cpu - base) * 1000 / count, 2) if cpu is not None and base is not None and count else None
        )

    not_modified = by_name.get("pqwatch unchanged re-crawl (pages)", {}).get("statuses", {}).get(304, 0)
    return {
        "startup_cpu_s": base,
        "cpu_ms_per_post_fetched": per("pqwatch first crawl (pages)", posts),
        "cpu_ms_per_post_via_api": per("pqwatch first crawl (API)", posts),
        "cpu_ms_per_304": per("pqwatch unchanged re-crawl (pages)", not_modified),
    }


def revision() -> str | None:
    """The commit of the code measured, with "+changes" when the work tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return (
        head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "") if head.returncode == 0 else None
    )


def _cell(value: Any) -> str:
    return "—" if value is None else str(value)


def _name(r: dict[str, Any]) -> str:
    flags = [f"exit {r['exit_code']}"] if r["exit_code"] else []
    flags += ["killed at the timeout"] if r["killed"] else []
    return r["runner"] + (f" [{', '.join(flags)}]" if flags else "")


def _polite(requests: int) -> str:
    """The wall time `requests` take at the default politeness, one request a second."""
    return f"{requests // 60} min {requests % 60:02d} s" if requests >= 60 else f"{requests} s"


def _accuracy(scores: dict[str, int] | None) -> str:
    return "—" if not scores else f"{scores['found']}/{scores['false']}/{scores['misses']}"


def _align(cells: tuple[str, ...], widths: list[int]) -> list[str]:
    return [
        cell.ljust(w) if i == 0 else cell.rjust(w)
        for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
    ]


def table(figures: dict[str, Any]) -> str:
    """The results as a fixed-width table."""
    head: tuple[str, ...] = (
        "runner",
        "gen",
        "wall s",
        "CPU s",
        "RSS MiB",
        "requests",
        "at 1 s/req",
        "pages/s",
        "site CPU s",
        "others CPU s",
    )
    head += ("pages f/x/m", "answers f/x/m")
    lines = [head]
    for r in figures["rows"]:
        lines.append(
            (_name(r), str(r["generation"]), *(_cell(r[k]) for k in ("wall_s", "cpu_s", "peak_rss_mib")))
            + (str(r["requests"]), _polite(r["requests"]), _cell(r["pages_per_s"]))
            + (str(r["site_cpu_s"]), str(r["others_cpu_s"]))
            + (_accuracy(r.get("pages")), _accuracy(r.get("answers")))
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = ["  ".join(_align(line, widths)) for line in lines]
    truth = figures["truth"]
    text.append(
        f"truth: {truth['answer_changes']} answer changes on {truth['pages']} of {figures['posts_served']} "
        f"posts; f/x/m = found / false / misses; concurrency {figures['concurrency']}; "
        f"urlwatch: {figures['urlwatch']['version']}"
    )
    costs = figures.get("per_post") or {}
    if costs:
        c = costs
        text.append(
            f"pqwatch CPU, start-up ({c['startup_cpu_s']} s) taken off: {c['cpu_ms_per_post_fetched']} ms "
            f"a post fetched, {c['cpu_ms_per_post_via_api']} ms a post read through the API, "
            f"{c['cpu_ms_per_304']} ms a 304"
        )
    return "\n".join(text)


def memory_flatness(
    runners: tuple[str, ...] = ("pqwatch first crawl (pages)", "pqwatch change crawl (pages)"),
) -> list[str]:
    """pqwatch's peak RSS across the saved runs of different sizes (same server settings), and the ratio."""
    peaks: dict[str, dict[int, float]] = {runner: {} for runner in runners}
    for saved in OUT.glob("peers-*.json"):
        figures = json.loads(saved.read_text())
        if not figures.get("site_tcp_nodelay", True):
            continue
        for r in figures["rows"]:
            if r["runner"] in peaks and r["peak_rss_mib"] and not r["exit_code"]:
                peaks[r["runner"]][figures["posts"]] = r["peak_rss_mib"]
    lines = []
    for runner, by_size in peaks.items():
        if len(by_size) > 1:
            sizes = sorted(by_size)
            listed = ", ".join(f"{n} posts {by_size[n]} MiB" for n in sizes)
            lines.append(f"{runner} peak RSS: {listed}; ratio {by_size[sizes[-1]] / by_size[sizes[0]]:.2f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the table and write the JSON."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_floor"]:
        return floor_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--skip-urlwatch", action="store_true", help="leave urlwatch out")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds allowed to each runner")
    parser.add_argument(
        "--server-nagle", action="store_true", help="leave LocalSite's sockets with Nagle's algorithm on"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # clean up on the way out
    figures = run(args.posts, args.concurrency, args.skip_urlwatch, args.timeout, args.server_nagle)
    OUT.mkdir(exist_ok=True)
    target = OUT / f"peers-{args.posts}{'-nagle' if args.server_nagle else ''}.json"
    target.write_text(json.dumps(figures, indent=2) + "\n")
    print(table(figures))
    for line in memory_flatness():
        print(line)
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
