"""Configuration, read once in one place: PQWATCH_* environment variables (optionally from .env)
and the TOML file of sources. A bad value fails fast, naming the setting."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_CONFIG = Path(__file__).with_name("pqwatch.toml")


def pqwatch_version() -> str:
    """The installed pqwatch's version ("unknown" when run from a checkout never installed)."""
    from importlib import metadata

    try:
        return metadata.version("pqwatch")
    except metadata.PackageNotFoundError:
        return "unknown"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class BlogSource:
    """One blog to crawl: where to start and how many listing pages to walk (0: all)."""

    name: str
    start_urls: tuple[str, ...]
    max_listing_pages: int = 0
    schedule: str = "15 */6 * * *"  # crontab, Europe/London
    # Dispatched to Scrapyd nodes, the crawl is this many jobs (shards of its posts), run one
    # after another; a local crawl is one process whatever it says (see crawl_processes).
    shards: int = 1


@dataclass(frozen=True)
class Settings:
    """Everything pqwatch reads from its environment and config file."""

    db_url: str
    smtp_url: str | None
    mail_from: str
    base_url: str
    secret_key: str | None
    outbox_dir: Path
    download_delay: float
    concurrency_per_host: int
    config_file: Path
    blogs: tuple[BlogSource, ...] = field(default=())
    api_base: str = "https://questions-statements-api.parliament.uk"
    retry_base_delay: float = 2.0
    download_timeout: float = 30.0
    refresh_days: int = 7
    # A blog crawl re-reads every post this often, whatever its API or sitemap says changed.
    full_verify_days: float = 7.0
    # The share of one source's answers that one run may change or lose before its events are
    # held from digests for the operator (PQWATCH_MASS_CHANGE_THRESHOLD).
    mass_change_threshold: float = 0.2
    parliament_schedule: str = "45 */2 * * *"  # crontab, Europe/London
    # Written statements that correct answers: off the API crawl's minute (one host, one crawl at
    # a time), and less often, as such statements are rare.
    statements_schedule: str = "15 */6 * * *"
    # Scrapyd nodes to dispatch crawl jobs to (PQWATCH_SCRAPYD_URLS); none: local processes.
    scrapyd_urls: tuple[str, ...] = ()


def load_settings(
    environ: dict[str, str] | None = None, *, db_url: str | None = None, config_file: str | None = None
) -> Settings:
    """Read settings from the environment (and ./.env), then the config file; flags win."""
    env = {
        **{k: v for k, v in dotenv_values(".env").items() if v is not None},
        **(environ if environ is not None else os.environ),
    }
    path = Path(config_file or env.get("PQWATCH_CONFIG") or DEFAULT_CONFIG)
    data = _read_toml(path)
    return Settings(
        db_url=db_url or env.get("PQWATCH_DB_URL") or "sqlite:///pqwatch.sqlite3",
        smtp_url=env.get("PQWATCH_SMTP_URL") or None,
        mail_from=env.get("PQWATCH_MAIL_FROM", "pqwatch <pqwatch@localhost>"),
        base_url=env.get("PQWATCH_BASE_URL", "http://127.0.0.1:8080"),
        secret_key=env.get("PQWATCH_SECRET_KEY") or None,
        outbox_dir=Path(env.get("PQWATCH_OUTBOX_DIR", "outbox")),
        download_delay=_number(env, "PQWATCH_DOWNLOAD_DELAY", "1", float, minimum=0),
        concurrency_per_host=int(_number(env, "PQWATCH_CONCURRENCY_PER_HOST", "1", int, minimum=1)),
        config_file=path,
        blogs=_read_sources(path, data),
        api_base=_read_api_base(path, data),
        parliament_schedule=_crontab(
            data.get("parliament", {}).get("schedule", Settings.parliament_schedule), f"{path}: [parliament]"
        ),
        statements_schedule=_crontab(
            data.get("statements", {}).get("schedule", Settings.statements_schedule), f"{path}: [statements]"
        ),
        retry_base_delay=_number(env, "PQWATCH_RETRY_BASE_DELAY", "2", float, minimum=0),
        download_timeout=_number(env, "PQWATCH_DOWNLOAD_TIMEOUT", "30", float, minimum=0.1),
        refresh_days=int(_number(env, "PQWATCH_REFRESH_DAYS", "7", int, minimum=0)),
        full_verify_days=_number(env, "PQWATCH_FULL_VERIFY_DAYS", "7", float, minimum=0),
        mass_change_threshold=mass_change_threshold(env),
        scrapyd_urls=_scrapyd_urls(env, db_url or env.get("PQWATCH_DB_URL") or ""),
    )


def _scrapyd_urls(env: dict[str, str], db_url: str) -> tuple[str, ...]:
    """Read PQWATCH_SCRAPYD_URLS: node URLs joined by commas (http://user:pass@node1:6800,...).

    The nodes' crawls write to the leader's database, so it must be one they can all reach."""
    raw = env.get("PQWATCH_SCRAPYD_URLS", "")
    urls = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for url in urls:
        check_http_url(url, "PQWATCH_SCRAPYD_URLS")
    if urls and not db_url.startswith("postgresql"):
        raise ConfigError(
            "PQWATCH_SCRAPYD_URLS needs a PostgreSQL database (PQWATCH_DB_URL or --db "
            "postgresql://...): crawls on other machines cannot share a SQLite file"
        )
    return urls


def mass_change_threshold(environ: dict[str, str] | None = None) -> float:
    """Read PQWATCH_MASS_CHANGE_THRESHOLD (default 0.2): a share above 0 and at most 1."""
    env = (
        environ
        if environ is not None
        else {
            **{k: v for k, v in dotenv_values(".env").items() if v is not None},
            **os.environ,
        }
    )
    raw = env.get("PQWATCH_MASS_CHANGE_THRESHOLD", "0.2")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"PQWATCH_MASS_CHANGE_THRESHOLD={raw!r} is not a number") from None
    if not 0 < value <= 1:
        raise ConfigError(f"PQWATCH_MASS_CHANGE_THRESHOLD={raw!r} must be a share above 0 and at most 1")
    return value


def _number(env: dict[str, str], name: str, default: str, kind: type, *, minimum: float) -> float:
    raw = env.get(name, default)
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a {kind.__name__}") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        if path == DEFAULT_CONFIG and not path.exists():
            # Why: in the egg a Scrapyd node runs, the bundled file is inside a zip.
            return tomllib.loads(resources.files("monitor").joinpath("pqwatch.toml").read_text("utf-8"))
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None


def _read_api_base(path: Path, data: dict[str, Any]) -> str:
    base = data.get("parliament", {}).get("api_base", Settings.api_base)
    return check_http_url(str(base), f"{path}: [parliament] api_base")


def _read_sources(path: Path, data: dict[str, Any]) -> tuple[BlogSource, ...]:
    blogs: list[BlogSource] = []
    for number, entry in enumerate(data.get("blog", []), start=1):
        urls = entry.get("start_urls")
        if not urls or not all(isinstance(u, str) for u in urls):
            raise ConfigError(f"{path}: [[blog]] entry {number} needs start_urls, a list of URLs")
        for url in urls:
            check_http_url(url, f"{path}: [[blog]] entry {number}")
        name = str(entry.get("name", urlsplit(urls[0]).hostname))
        # Why: `pqwatch crawl NAME` takes a spider name or a source name; one may not be both.
        if name in ("blog", "pages", "parliament", "statements"):
            raise ConfigError(
                f"{path}: [[blog]] entry {number}: name {name!r} is a spider's name; choose another"
            )
        if name in {blog.name for blog in blogs}:
            raise ConfigError(f"{path}: [[blog]] entry {number}: name {name!r} is used twice")
        blogs.append(
            BlogSource(
                name=name,
                start_urls=tuple(urls),
                max_listing_pages=int(entry.get("max_listing_pages", 0)),
                shards=_shards(entry.get("shards", 1), f"{path}: [[blog]] entry {number}"),
                schedule=_crontab(
                    entry.get("schedule", BlogSource.schedule), f"{path}: [[blog]] entry {number}"
                ),
            )
        )
    return tuple(blogs)


def _shards(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise ConfigError(f"{where}: shards {value!r} is not a whole number from 1 to 64")
    return value


def _crontab(value: object, where: str) -> str:
    """Check a crontab schedule ("45 */2 * * *") and return it."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(str(value))
    except ValueError as error:
        raise ConfigError(f"{where}: schedule {value!r} is not a crontab line: {error}") from None
    return str(value)


def check_http_url(url: str, where: str = "URL") -> str:
    """Return url if it is an absolute http(s) URL with a host, else raise ConfigError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {url!r} is not an http(s) URL with a host")
    # Why: urlsplit accepts "http://a b/" (host "a b"); a crawl of it would fail far from here.
    if any(character.isspace() for character in url):
        raise ConfigError(f"{where}: {url!r} contains a space (encode it as %20)")
    return url
