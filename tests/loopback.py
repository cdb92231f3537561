"""Servers on 127.0.0.1, each in a thread of its own: the app for the browser tests and the
screenshots, the test doubles (a webhook receiver) for the integration tests."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import BaseServer

from flask import Flask
from werkzeug.serving import ThreadedWSGIServer, make_server


def free_port() -> int:
    """A loopback port free now (nothing listens on it once this returns)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 10) -> None:
    """Until a server (a subprocess started by the test) listens on `port`; OSError after
    `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def serving(server: BaseServer, name: str = "loopback-server") -> Iterator[None]:
    """Serve `server` in a daemon thread for the duration of the block, then stop and close it
    (a server that closes after its requests makes the close wait for them)."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert not thread.is_alive(), f"{name} did not stop"


@contextmanager
def serving_app(app: Flask) -> Iterator[str]:
    """`app` served by a threaded werkzeug server on a free loopback port; yields its URL.

    Emails carry links built from `settings.base_url`, so it is pointed at the real address.
    Closing waits for requests still running: nothing writes any more once the block is left.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    assert isinstance(server, ThreadedWSGIServer)
    server.daemon_threads = False
    server.block_on_close = True
    url = f"http://127.0.0.1:{server.server_port}"
    runtime = app.extensions["paraphe"]
    runtime.settings = dataclasses.replace(runtime.settings, base_url=url)
    with serving(server, "live-server"):
        yield url
