"""Rows aged past a sweep's patience, as the sweeps find them once the job that was to handle
them was lost (a worker killed, a broker emptied): the tests then run the sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute

from app.db import transaction, utcnow
from tests.factories import runtime


def aged_past(
    app: Flask,
    column: InstrumentedAttribute[Any],
    row_id: int,
    patience: timedelta,
    *,
    since: datetime | None = None,
) -> None:
    """`column` of the row `row_id` set one second further back than `patience` before
    `since` (now by default): the first instant at which a sweep takes its job for lost."""
    model = column.class_
    with transaction(runtime(app).session_factory) as session:
        session.execute(
            update(model)
            .where(model.id == row_id)
            .values({column: (since or utcnow()) - patience - timedelta(seconds=1)})
        )
