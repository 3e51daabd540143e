"""A Scrapyd node, as pqwatch speaks to it: its JSON API (https://scrapyd.readthedocs.io/en/latest/api.html;
scrapyd-k8s serves the same) over HTTP with basic auth, each call one request with a timeout.

Scrapyd answers most errors with HTTP 200 and `{"status": "error", "message": ...}`; an
unreachable node, a refused login (401), any other status or a body that is not its JSON is a
NodeError too, naming the node without its password."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit
from urllib.request import Request, urlopen

PROJECT = "pqwatch"  # the Scrapyd project pqwatch deploys and schedules
TIMEOUT = 10.0  # seconds for one call to a node


class NodeError(RuntimeError):
    """A node could not be reached, refused the call, or answered with an error."""


@dataclass(frozen=True)
class NodeLoad:
    """What a node's daemonstatus.json says: jobs waiting and running."""

    pending: int
    running: int

    @property
    def busy(self) -> int:
        return self.pending + self.running


class Node:
    """One Scrapyd node from a URL of PQWATCH_SCRAPYD_URLS (`http://user:pass@node1:6800`)."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        parts = urlsplit(url)
        self.timeout = timeout
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        # The URL shown in logs, status and crawl_jobs: never its credentials.
        self.name = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self._auth: str | None = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self._auth = "Basic " + base64.b64encode(pair.encode()).decode()

    def __repr__(self) -> str:
        return f"Node({self.name})"

    def load(self) -> NodeLoad:
        """daemonstatus.json: how many jobs wait and run on the node."""
        answer = self._call("GET", "daemonstatus.json")
        return NodeLoad(pending=int(answer.get("pending", 0)), running=int(answer.get("running", 0)))

    def schedule(self, spider: str, job_id: str, args: dict[str, str], settings: dict[str, str]) -> None:
        """schedule.json: queue `spider` with its `-a` arguments and `-s` settings as job `job_id`."""
        fields: list[tuple[str, str]] = [("project", PROJECT), ("spider", spider), ("jobid", job_id)]
        fields += [("setting", f"{name}={value}") for name, value in settings.items()]
        fields += list(args.items())
        self._call("POST", "schedule.json", fields)

    def job_states(self) -> dict[str, str]:
        """listjobs.json: each job id the node knows -> pending | running | finished."""
        answer = self._call("GET", "listjobs.json", [("project", PROJECT)])
        return {
            str(job["id"]): state
            for state in ("pending", "running", "finished")
            for job in answer.get(state, ())
        }

    def cancel(self, job_id: str) -> None:
        """cancel.json: remove a pending job or stop a running one."""
        self._call("POST", "cancel.json", [("project", PROJECT), ("job", job_id)])

    def add_version(self, version: str, egg: bytes) -> int:
        """addversion.json: upload the project's egg; the number of spiders the node found in it."""
        boundary = uuid.uuid4().hex
        body = _multipart(boundary, {"project": PROJECT, "version": version}, ("egg", "pqwatch.egg", egg))
        answer = self._call(
            "POST", "addversion.json", body=body, content_type=f"multipart/form-data; boundary={boundary}"
        )
        return int(answer.get("spiders", 0))

    def versions(self) -> list[str]:
        """listversions.json: the project's versions on the node, oldest first."""
        return [
            str(v) for v in self._call("GET", "listversions.json", [("project", PROJECT)]).get("versions", ())
        ]

    def _call(
        self,
        method: str,
        endpoint: str,
        fields: list[tuple[str, str]] | None = None,
        *,
        body: bytes | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> dict[str, Any]:
        url = f"{self.name}/{endpoint}"
        if method == "GET" and fields:
            url += "?" + urlencode(fields)
        elif fields:
            body = urlencode(fields).encode()
        request = Request(url, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", content_type)
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (an http(s) URL of the config)
                raw = response.read()
        except HTTPError as error:
            hint = " (check the user and password in PQWATCH_SCRAPYD_URLS)" if error.code == 401 else ""
            raise NodeError(f"{self.name} answered {endpoint} with HTTP {error.code}{hint}") from None
        except (URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise NodeError(f"{self.name} is unreachable ({reason})") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise NodeError(f"{self.name} answered {endpoint} with something not JSON") from None
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            message = answer.get("message", answer) if isinstance(answer, dict) else answer
            raise NodeError(f"{self.name} refused {endpoint}: {str(message).strip()[:300]}")
        return answer


def _multipart(boundary: str, fields: dict[str, str], file: tuple[str, str, bytes]) -> bytes:
    """A multipart/form-data body (RFC 7578): text fields and one file."""
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    name, filename, data = file
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)
