"""`GET /sante`: what a load balancer and an operator ask of one Paraphe machine.

- 503 when this web process cannot serve: its database, or the jobs' broker, does not
  answer (a page would fail, an action would not be queued).
- 200 "degraded" when no worker is alive: pages still answer, but every background job
  (seals, mails, generations) waits. Taking the web machines out of the balancer would not
  help, so it is not a 503; a monitoring probe alerts on the status instead.

No login: it says nothing but counts and states (no names, no hosts)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.db import utcnow
from app.job_runs import heartbeats
from app.job_runs.backlog import backlog
from app.queue.broker import is_inline
from app.wiring import read_only_db_session

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

STOPPED = (
    "Aucun worker actif : les travaux en arrière-plan (cachets, courriels, générations) "
    "attendent. Démarrez « paraphe worker »."
)


def _database() -> tuple[dict[str, Any], heartbeats.Liveness | None]:
    try:
        session = read_only_db_session()
        session.execute(select(1))
        return {"status": "ok"}, heartbeats.liveness(session, utcnow())
    except SQLAlchemyError:
        log.warning("/sante : la base ne répond pas", exc_info=True)
        return {"status": "error", "message": "La base de données ne répond pas."}, None


def _queue() -> dict[str, Any]:
    state = backlog()
    if state.inline:
        return {"status": "ok", "mode": "inline"}
    if state.waiting is None:
        return {"status": "error", "message": "La file des travaux ne répond pas."}
    return {"status": "ok", "waiting": state.waiting}


def _workers(liveness: heartbeats.Liveness | None) -> dict[str, Any]:
    if is_inline():
        # Each job runs in the process that asks for it: there is no worker to wait for.
        return {"status": "ok", "mode": "inline"}
    if liveness is None:
        return {"status": "unknown"}
    seen = liveness.last_seen.isoformat() if liveness.last_seen else None
    if liveness.stopped:
        return {"status": "stopped", "alive": 0, "last_seen": seen, "message": STOPPED}
    return {"status": "ok", "alive": liveness.alive, "last_seen": seen}


@bp.get("/sante")
def health() -> ResponseReturnValue:
    database, liveness = _database()
    checks = {"database": database, "queue": _queue(), "workers": _workers(liveness)}
    if any(check["status"] == "error" for check in checks.values()):
        status, code = "down", 503
    elif checks["workers"]["status"] == "ok":
        status, code = "ok", 200
    else:
        status, code = "degraded", 200
    response = jsonify({"status": status, "checks": checks})
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response
