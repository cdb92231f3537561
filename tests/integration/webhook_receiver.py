"""A real webhook receiver on loopback (http.server in a thread): it records each POST (headers
and body as received) and answers the statuses it is told, in turn."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.loopback import serving


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server whose listen backlog holds a burst of connections: the
    default (5) made the kernel reset some of 20 deliveries connecting at once ("connexion
    interrompue par le récepteur"), a flaky race test rather than a finding."""

    request_queue_size = 128


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)  # when it arrived (the bench's delays)


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answered in turn; then 200
    delay_s: float = 0.0  # a slow receiver (the concurrency test)
    connections: int = 0  # TCP connections accepted (keep-alive reuses them)
    in_flight: int = 0  # POSTs being answered now
    most_in_flight: int = 0  # the most at once so far
    open_sockets: set[socket.socket] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def cut_connections(self) -> None:
        """Close every open connection from the receiver's side (as a receiver's idle
        timeout or restart does)."""
        with self.lock:
            for sock in self.open_sockets:
                with suppress(OSError):  # the client closed it first
                    sock.shutdown(socket.SHUT_RDWR)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def running_receiver(
    statuses: list[int] | None = None, delay_s: float = 0.0, *, keep_alive: bool = False
) -> Iterator[Receiver]:
    """`keep_alive`: HTTP/1.1, the connection kept open between POSTs (as most receivers do);
    otherwise HTTP/1.0, one connection per POST. Kept connections are cut when it stops, as a
    stopped server's would be."""
    receiver = Receiver(url="", statuses=list(statuses or []), delay_s=delay_s)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        # Headers and body are two writes: with Nagle's algorithm the body of an answer on a
        # kept-alive connection waits for the client's delayed ACK (40 ms), unlike real servers.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with receiver.lock:
                receiver.connections += 1
                receiver.open_sockets.add(self.connection)

        def finish(self) -> None:
            with receiver.lock:
                receiver.open_sockets.discard(self.connection)
            super().finish()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                receiver.in_flight += 1
                receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            with receiver.lock:
                receiver.in_flight -= 1
            status = receiver.next_status()
            answer = f"réponse {status}".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet test output

    server = LoopbackServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/paraphe"
    try:
        with serving(server, "webhook-receiver"):
            yield receiver
    finally:
        receiver.cut_connections()
