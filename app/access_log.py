"""The access log, written by the application rather than by the HTTP server.

Signing, restitution and client-request links carry their secret token in the URL path
(`/signer/<token>`). A server's access log writes the raw path, so every token would end up
in the logs, readable by whoever reads them. Here each request is logged with its route's
template instead (`GET /signer/<token> 200 12.3 ms`): what was asked and answered, without
the token, the query string or any header. A path that matches no route is logged as `-`.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request


def register_access_log(app: Flask) -> None:
    # A child of the application's logger: its lines go where Flask sends the app's (the
    # WSGI server's error stream), at the app's level (INFO).
    logger = app.logger.getChild("access")

    @app.before_request
    def _started() -> None:
        g.access_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("access_started")
        elapsed = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        route = request.url_rule.rule if request.url_rule is not None else "-"
        logger.info(
            "%s %s %s %d %.1f ms",
            request.remote_addr or "-",
            request.method,
            route,
            response.status_code,
            elapsed,
        )
        return response
