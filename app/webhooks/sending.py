"""One POST to a receiver, with the safety rules of the issue: the host is resolved here, at
delivery time, and every address it resolves to is checked before any connection (a DNS
answer changed since the endpoint was saved cannot reach the internal network); the
connection goes to the checked address (no second resolution to rebind); 10 s timeout; no
redirect followed (http.client follows none); the answer read up to a cap. No database here:
the caller holds no transaction during the call.

Keep-alive (issue 15): a connection whose answer was read whole is kept by the thread that
made it, for its next POST to the same host, port and checked address. Every POST still
resolves the host and checks every address first; a kept connection is reused only when the
first checked address is the one it is connected to (otherwise it is closed and a new one
made to the new address), so it can never reach an address that the last check refused. Kept
connections idle for more than `KEEPALIVE_IDLE_S`, or that the receiver closed meanwhile, are
closed, not reused."""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.webhooks import rules
from app.webhooks.models import AttemptOutcome


@dataclass(frozen=True)
class SendResult:
    outcome: AttemptOutcome
    status_code: int | None = None
    latency_ms: int | None = None
    excerpt: str | None = None
    error: str | None = None


def _connected(address: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the checked address, without Nagle's delay (as http.client's own
    `connect` does): on a kept-alive connection a small write would otherwise wait for the
    receiver's delayed ACK, 40 ms on Linux."""
    sock = socket.create_connection((address, port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address already checked, whatever the host name says."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _connected(self._address, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the checked address, the certificate verified for the host name (SNI)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = _connected(self._address, self.port, self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


KEEPALIVE_IDLE_S = 2.0
"""A kept connection idle longer is closed rather than reused: shorter than the idle timeouts
of common servers (5 s for Apache and Node.js), so that a POST rarely meets a connection the
receiver is closing at that moment (the attempt would fail and wait for its retry)."""

_Key = tuple[bool, str, int, str]  # https, host (name checked by TLS), port, checked address
_kept = threading.local()  # per thread: _Key → (connection, when it went idle)


def _take(key: _Key) -> http.client.HTTPConnection | None:
    """The thread's kept connection for `key` if still usable; any other kept connection
    idle too long is closed on the way."""
    kept: dict[_Key, tuple[http.client.HTTPConnection, float]] = _kept.__dict__.setdefault(
        "connections", {}
    )
    now = time.monotonic()
    for other, (connection, idle_since) in list(kept.items()):
        if other != key and now - idle_since > KEEPALIVE_IDLE_S:
            connection.close()
            del kept[other]
    found = kept.pop(key, None)
    if found is None:
        return None
    connection, idle_since = found
    if now - idle_since > KEEPALIVE_IDLE_S or _dropped(connection):
        connection.close()
        return None
    return connection


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether the receiver closed the idle connection (or sent something unasked): readable
    with nothing asked means end of stream, or bytes that belong to no request."""
    sock = connection.sock
    if sock is None:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _keep(key: _Key, connection: http.client.HTTPConnection) -> None:
    _kept.__dict__.setdefault("connections", {})[key] = (connection, time.monotonic())


def network_error(exc: BaseException) -> str:
    """What went wrong, in French for the delivery log (the system's text follows)."""
    if isinstance(exc, TimeoutError):
        return "délai dépassé (10 s)"
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(exc, ConnectionResetError):
        return "connexion interrompue par le récepteur"
    if isinstance(exc, ssl.SSLError):
        return f"erreur TLS : {exc}"[:500]
    return f"erreur réseau : {exc or type(exc).__name__}"[:500]


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool,
    require_https: bool,
) -> SendResult:
    if problem := rules.url_problem(url, require_https=require_https):
        return SendResult(AttemptOutcome.REFUSED, error=problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        return SendResult(AttemptOutcome.FAILED, error=f"nom introuvable ({host}) : {exc}"[:500])
    for address in addresses:
        # Every address, not the first: a name resolving to a public and a private address
        # would otherwise reach the private one on a later attempt.
        if refusal := rules.address_refusal(address, allow_private=allow_private):
            return SendResult(AttemptOutcome.REFUSED, error=refusal)
    key = (https, host, port, addresses[0])
    connection = _take(key)
    if connection is None:
        connection_class = _PinnedHTTPS if https else _PinnedHTTP
        connection = connection_class(host, port, addresses[0], rules.TIMEOUT_S)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read(rules.RESPONSE_CAP)
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        latency = int((time.monotonic() - started) * 1000)
        return SendResult(AttemptOutcome.FAILED, latency_ms=latency, error=network_error(exc))
    latency = int((time.monotonic() - started) * 1000)
    # Kept only when the answer was read whole (not cut at the cap) and the receiver keeps
    # the connection open (HTTP/1.1 without "Connection: close": http.client then keeps the
    # socket on the connection).
    if response.isclosed() and connection.sock is not None:
        _keep(key, connection)
    else:
        connection.close()
    accepted = 200 <= response.status < 300
    return SendResult(
        AttemptOutcome.SUCCEEDED if accepted else AttemptOutcome.FAILED,
        status_code=response.status,
        latency_ms=latency,
        excerpt=rules.excerpt(raw),
        error=None if accepted else f"réponse {response.status}",
    )
