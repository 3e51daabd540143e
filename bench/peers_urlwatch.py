"""urlwatch as a peer for bench.peers: its own virtual environment, its job, config and hooks files,
and the parsing of its plain-text report.

urlwatch 2.29 has no option for its number of parallel jobs: `urlwatch.worker.MAX_WORKERS` is a
module constant (10). Its documented extension point, the hooks file (`--hooks`), is plain Python
imported before the jobs run, so the benchmark sets the constant there to the shared concurrency."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REQUIREMENT = "urlwatch==2.29"  # pinned: the hooks file relies on urlwatch.worker.MAX_WORKERS
# What a user would write to watch the post body only: the Divi/WordPress body, then plain text.
CSS_FILTER = ("  - css: .entry-content", "  - html2text")
VARIANTS: dict[str, tuple[str, ...]] = {"no filter": (), "css .entry-content + html2text": CSS_FILTER}
OPTIONS = (
    "one job per post URL; --urls, --config, --hooks and --cache in a temporary folder, HOME and XDG "
    "there too; hooks.py sets urlwatch.worker.MAX_WORKERS = {concurrency}; stdout text report, details "
    "on, colour off; changed pages read from the report's summary lines"
)
CONFIG = """\
display:
  new: true
  error: true
  unchanged: false
  empty-diff: true
report:
  text:
    details: true
    footer: false
  stdout:
    enabled: true
    color: false
"""
HOOKS = """\
import urlwatch.worker

urlwatch.worker.MAX_WORKERS = {concurrency}  # the benchmark's shared concurrency
"""
# The summary at the top of the text report: "01. CHANGED: http://…" (no job names are set).
SUMMARY_LINE = re.compile(r"^\d+\. (NEW|CHANGED|UNCHANGED|ERROR): (\S+)$", re.MULTILINE)


def ensure_urlwatch(venv: Path, timeout: float = 600) -> tuple[Path | None, str]:
    """Create `venv` and pip-install urlwatch into it unless present; return (executable, version)
    or (None, why not)."""
    exe = venv / "bin" / "urlwatch"
    if not exe.exists():
        steps = (
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "-q", REQUIREMENT],
        )
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                return None, f"{' '.join(step[:3])}… timed out after {timeout:.0f} s"
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                return None, f"{' '.join(step[:3])}… failed ({done.returncode}): {tail[0]}"
    try:
        done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"urlwatch --version failed: {error}"
    if done.returncode != 0:
        return None, f"urlwatch --version exited {done.returncode}: {done.stderr.strip()[-200:]}"
    return exe, done.stdout.strip()


def write_job_files(folder: Path, urls: list[str], filters: tuple[str, ...], concurrency: int) -> None:
    """Write urls.yaml (one job per URL), urlwatch.yaml and hooks.py into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    block = "filter:\n" + "\n".join(filters) + "\n" if filters else ""
    jobs = "---\n".join(f"url: {url}\n{block}" for url in urls)
    (folder / "urls.yaml").write_text(jobs, encoding="utf-8")
    (folder / "urlwatch.yaml").write_text(CONFIG, encoding="utf-8")
    (folder / "hooks.py").write_text(HOOKS.format(concurrency=concurrency), encoding="utf-8")


def command(exe: Path, folder: Path) -> list[str]:
    """The urlwatch command line that runs every job of `folder` with its own files only."""
    files = {"--urls": "urls.yaml", "--config": "urlwatch.yaml", "--hooks": "hooks.py", "--cache": "cache.db"}
    return [str(exe), *(part for flag, name in files.items() for part in (flag, str(folder / name)))]


def environment(folder: Path, base: dict[str, str]) -> dict[str, str]:
    """An environment whose home and XDG folders are inside `folder`, so nothing touches the user's."""
    home = folder / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in base.items() if not k.lower().endswith("_proxy")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    env.update(NO_PROXY="127.0.0.1,localhost", EDITOR="false", VISUAL="false")
    return env


def parse_report(text: str) -> dict[str, set[str]]:
    """URLs by verb (NEW, CHANGED, UNCHANGED, ERROR) from the summary of a text report."""
    verbs: dict[str, set[str]] = {}
    for verb, url in SUMMARY_LINE.findall(text):
        verbs.setdefault(verb, set()).add(url)
    return verbs
