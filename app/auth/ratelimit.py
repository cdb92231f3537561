"""Rate-limit counters in the application's database, shared by every server process.

`paraphe serve` runs one process per core: with the `limits` library's `memory://` storage each
process counted on its own, so N workers allowed N times each limit. Redis
(`PARAPHE_RATELIMIT_STORAGE=redis://…`) is the choice for a large deployment; this storage is
the embedded default, so that limits hold with no extra service. Fixed windows only (the
strategy Flask-Limiter uses by default): one atomic upsert per counted request."""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any, cast
from urllib.parse import urlsplit

from limits.errors import ConfigurationError
from limits.storage import Storage
from sqlalchemy import Engine, Table, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app.auth.models import RateLimitCounter

SCHEME = "paraphe-database"

# Engines by the name their storage URI carries. Flask-Limiter builds a storage from a URI and
# options it accumulates across apps; a name in the URI keeps each app on its own engine.
_engines: weakref.WeakValueDictionary[str, Engine] = weakref.WeakValueDictionary()


def storage_uri(engine: Engine) -> str:
    """The `limits` storage URI that counts in `engine`'s database."""
    name = f"engine{id(engine)}"
    _engines[name] = engine
    return f"{SCHEME}://{name}"


_table = cast(Table, RateLimitCounter.__table__)  # a mapped class's table is a Table


class DatabaseStorage(Storage):
    """`limits` storage over the `rate_limit_counters` table (registered by subclassing)."""

    # `limits` declares this a (list) instance attribute, read by its registry when the class
    # is created: ClassVar would contradict the base class for mypy, hence the noqa.
    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: Any) -> None:
        super().__init__(uri, wrap_exceptions)
        engine = _engines.get(urlsplit(uri or "").netloc)
        if engine is None:
            raise ConfigurationError(f"no engine registered for the rate-limit storage {uri}")
        self._engine = engine
        self._seen = threading.local()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to the counter, starting a new window if the last one ended; one
        statement (INSERT … ON CONFLICT DO UPDATE … RETURNING), atomic on both databases."""
        now = time.time()
        dialect_insert = (
            postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        )
        ended = _table.c.expires_at <= now
        statement = (
            dialect_insert(_table)
            .values(key=key, count=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[_table.c.key],
                set_={
                    "count": case((ended, amount), else_=_table.c["count"] + amount),
                    "expires_at": case((ended, now + expiry), else_=_table.c.expires_at),
                },
            )
            .returning(_table.c["count"], _table.c.expires_at)
        )
        with self._engine.begin() as conn:
            count, expires_at = conn.execute(statement).one()
        self._remember(key, int(count), float(expires_at))
        return int(count)

    def _remember(self, key: str, count: int, expires_at: float) -> None:
        seen: dict[str, tuple[int, float]] = self._seen.__dict__.setdefault("counters", {})
        if len(seen) > 64:
            seen.clear()
        seen[key] = (count, expires_at)

    def _recalled(self, key: str) -> tuple[int, float] | None:
        """What this thread's last increment of `key` returned, while its window lasts.

        The response headers (X-RateLimit-*, Retry-After) are computed after the view, while
        the request's own transaction may still hold SQLite's write lock (every transaction
        there is BEGIN IMMEDIATE): reading the counter again would wait on it. The request's
        increment already returned the counter, in the same thread."""
        seen: dict[str, tuple[int, float]] = self._seen.__dict__.get("counters", {})
        found = seen.get(key)
        if found is not None and found[1] > time.time():
            return found
        return None

    def get(self, key: str) -> int:
        if (recalled := self._recalled(key)) is not None:
            return recalled[0]
        with self._engine.connect() as conn:
            count = conn.execute(
                select(_table.c["count"]).where(
                    _table.c.key == key, _table.c.expires_at > time.time()
                )
            ).scalar()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        if (recalled := self._recalled(key)) is not None:
            return recalled[1]
        with self._engine.connect() as conn:
            expires_at = conn.execute(
                select(_table.c.expires_at).where(_table.c.key == key)
            ).scalar()
        return float(expires_at) if expires_at is not None else time.time()

    def check(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(select(func.count()).select_from(_table))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        self._seen.__dict__.pop("counters", None)
        with self._engine.begin() as conn:
            removed: int = conn.execute(delete(_table)).rowcount
        return removed

    def clear(self, key: str) -> None:
        self._seen.__dict__.get("counters", {}).pop(key, None)
        with self._engine.begin() as conn:
            conn.execute(delete(_table).where(_table.c.key == key))
