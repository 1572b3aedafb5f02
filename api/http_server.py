"""The HTTP server's own limits (issue 11): what uvicorn does not bound by itself.

uvicorn closes a connection that idles *between* requests (keep-alive timeout), but not one that never finishes
its request: a client may open thousands of sockets and send a header byte every few seconds. This protocol, a
small subclass of uvicorn's httptools one (a compiled parser: a fifth less of the server's CPU per request than
the pure-Python h11, bench/sparql/README.md), adds
- a cap on open connections, and a smaller one per client address: past either a new connection gets `503` with
  `Retry-After` and is closed at once, so one client cannot take every connection;
- a header timeout (the request line and headers must arrive within it) and a body timeout;
- a bound on the request line and headers (httptools has none: it would buffer them without end), answered
  `414`/`431` with a message and the security headers; a malformed request gets `400` with them too;
and `serve()` raises the open-file limit, and keeps repeated log lines (a flood of `Too many open files`, of
invalid requests) from filling the disk.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter
from dataclasses import dataclass

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.security import COMMON


@dataclass(frozen=True)
class HttpLimits:
    max_connections: int = 1000
    # one address may hold this many (a reverse proxy in front counts as one address: raise it there)
    per_address: int = 100
    header_timeout: float = 10.0  # seconds for the request line and headers
    body_timeout: float = 30.0  # seconds for a request body
    keep_alive: int = 5  # seconds a connection may idle between requests
    max_head_bytes: int = 1_064_960  # request line + headers: the largest GET query string plus 64 KiB


def raw_response(status: int, reason: str, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    body = (message.rstrip() + "\n").encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *COMMON,
        (b"content-security-policy", b"default-src 'none'"),
        *extra,
    ]
    head = f"HTTP/1.1 {status} {reason}\r\n".encode() + b"".join(k + b": " + v + b"\r\n" for k, v in headers)
    return head + b"\r\n" + body


class CoalescingTransport:
    """The connection's transport, with small writes held to the end of the event loop's turn and sent together.

    uvicorn writes a response's status line and headers, then its body, each with a system call of its own; a
    small answer (a lookup) so costs two sends and two wake-ups of the client. Held this way they leave in one.
    What is held goes out before anything larger, a close or an end of file; the rest is the transport's."""

    hold_bytes = 16384  # writes up to this much wait for the turn's end; a larger one goes at once

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport, self._loop = transport, loop
        self._held: list[bytes] = []
        self._size = 0

    def __getattr__(self, name: str):  # everything else: the transport's own
        return getattr(self._transport, name)

    def write(self, data: bytes) -> None:
        if self._size + len(data) > self.hold_bytes:
            self._held.append(data)
            self.flush()
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)
        self._size += len(data)

    def flush(self) -> None:
        if self._held:
            held, self._held, self._size = self._held, [], 0
            if not self._transport.is_closing():
                self._transport.writelines(held)

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held, self._size = [], 0
        self._transport.abort()


def protocol_class(limits: HttpLimits) -> type[HttpToolsProtocol]:
    """An HttpToolsProtocol subclass bound to `limits` (uvicorn instantiates the class once per connection)."""

    per_address: Counter = Counter()  # open connections per client address

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        # where the parser is in the current request: "idle" (nothing of it yet), "head" (request line and
        # headers coming), "body", "done" (read; the answer may still be on its way)
        phase = "idle"
        head_bytes = 0  # bytes received since the last request was read: its successor's head so far
        line_done = False  # a line end among them: the request line is complete
        refused = draining = False
        deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:
            peer = transport.get_extra_info("peername")
            self.address = peer[0] if isinstance(peer, tuple) else str(peer)
            if len(self.connections) >= limits.max_connections:
                problem = f"too many open connections ({limits.max_connections}); retry shortly"
            elif per_address[self.address] >= limits.per_address:
                problem = f"too many open connections from your address ({limits.per_address}); close some first"
            else:
                problem = ""
            if problem:
                transport.write(raw_response(503, "Service Unavailable", problem, ((b"retry-after", b"5"),)))
                transport.close()
                self.transport = transport
                self.refused = True
                return
            per_address[self.address] += 1
            super().connection_made(CoalescingTransport(transport, self.loop))
            self._arm(limits.header_timeout)

        def connection_lost(self, exc) -> None:
            if self.refused:
                return
            per_address[self.address] -= 1
            if per_address[self.address] <= 0:
                del per_address[self.address]
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self.refused or self.draining:
                return  # the answer is sent: what the client still sends is read and dropped
            if self.phase != "body":
                self.head_bytes += len(data)
                self.line_done = self.line_done or b"\n" in data
            super().data_received(data)
            # httptools sets no bound on a head: past it, answer before the parser buffers any more of it
            if self.phase in ("idle", "head") and self.head_bytes > limits.max_head_bytes and not self.draining:
                if self.line_done:
                    self._answer_and_linger(
                        raw_response(431, "Request Header Fields Too Large", "request headers too large")
                    )
                else:  # the request line itself is too long: a long GET query string
                    self._answer_and_linger(
                        raw_response(414, "URI Too Long", "request URI too long; send long queries with POST")
                    )

        def on_message_begin(self) -> None:
            self.phase = "head"
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self.phase = "body"
            query = None
            if len(self.url) > 65535:  # past what httptools' URL parser takes: a long GET query, split here
                path, _, query = self.url.partition(b"#")[0].partition(b"?")
                self.url = path
            super().on_headers_complete()
            if query is not None:  # the request's task is created, not yet started: its scope can still change
                self.scope["query_string"] = query

        def on_message_complete(self) -> None:
            self.phase, self.head_bytes, self.line_done = "done", 0, False
            super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm(limits.header_timeout)  # the next request's headers must come in time too

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self.deadline = self.loop.call_later(seconds, self._check_progress, time.monotonic())

        def _disarm(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

        def _check_progress(self, armed: float) -> None:
            """Headers not complete in time: close. A body still coming: one body timeout more, then close."""
            self.deadline = None
            if self.transport.is_closing():
                return
            if self.phase == "head" or (self.phase in ("idle", "done") and self.head_bytes):
                self._close(408, "Request Timeout", "request headers not received in time")
            elif self.phase == "body":
                if time.monotonic() - armed < limits.header_timeout + limits.body_timeout:
                    self.deadline = self.loop.call_later(limits.body_timeout, self._check_progress, armed)
                else:
                    self._close(408, "Request Timeout", "request body not received in time")
            elif self.cycle is None or self.cycle.response_complete:
                self._close(None, "", "")  # an idle connection that never sent a request

        def _close(self, status: int | None, reason: str, message: str) -> None:
            if status is not None and (
                self.cycle is None or not self.cycle.response_started or self.cycle.response_complete
            ):
                self.transport.write(raw_response(status, reason, message))
            self.transport.close()

        def send_400_response(self, msg: str) -> None:
            # uvicorn's `msg` says no more than the status: "Invalid HTTP request received."
            self._answer_and_linger(raw_response(400, "Bad Request", "invalid HTTP request line or headers"))

        def _answer_and_linger(self, out: bytes) -> None:
            """Send `out`, then keep reading (and dropping) what the client still sends for a moment before
            closing: closing at once with unread data makes the kernel reset the connection, and the client
            would never read the answer."""
            self.draining = True
            self._disarm()
            self.transport.write(out)
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(2.0, self.transport.close)

    return GuardedHttpToolsProtocol


class RateLimitedLog(logging.Filter):
    """At most `burst` records of the same message per `window` seconds; then one line saying how many were
    dropped. Keeps a flood of identical errors (EMFILE, invalid requests) from filling the disk."""

    def __init__(self, burst: int = 5, window: float = 10.0):
        super().__init__()
        self.burst, self.window = burst, window
        self._seen: dict[str, list] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = f"{record.name}:{record.msg}"[:200]
        now = time.monotonic()
        entry = self._seen.get(key)
        if entry is None or now - entry[0] > self.window:
            dropped = entry[2] if entry else 0
            self._seen[key] = [now, 1, 0]
            if len(self._seen) > 1000:
                self._seen.clear()
            if dropped:
                record.msg = f"{record.msg} (and {dropped} more like this in {self.window:g} s, not logged)"
            return True
        entry[1] += 1
        if entry[1] <= self.burst:
            return True
        entry[2] += 1
        return False


def quiet_floods() -> None:
    """Rate-limit every log record on its way out: filters sit on the handlers (uvicorn's, and one on the root
    logger for ours and asyncio's), since a logger's own filters do not see its children's records."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    handlers = list(root.handlers)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        handlers += logging.getLogger(name).handlers
    for handler in handlers:
        if not any(isinstance(f, RateLimitedLog) for f in handler.filters):
            handler.addFilter(RateLimitedLog())


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard one; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_cap(requested: int, open_files: int, workers: int) -> int:
    """The connection cap that fits under the open-file limit, with room for the store, pipes and logs."""
    return max(16, min(requested, open_files - 64 - 8 * workers))
