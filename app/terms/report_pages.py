"""The opposability report: which CGV version binds each client on a date, as a page and as
a CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Response, render_template, request

from app.auth.guards import require
from app.auth.rules import Permission
from app.clock import business_date
from app.db import utcnow
from app.terms.blueprint import bp
from app.terms.report import NO_VERSION, opposability_report
from app.terms.schemas import parse_at
from app.wiring import db_session


def _report_date() -> date:
    # the report page's date field left empty means today (the API refuses an empty `at`)
    return parse_at(request.args.get("at") or None, business_date(utcnow()))


@bp.route("/rapport")
@require(Permission.VIEW_CLIENTS)
def report() -> str:
    report = opposability_report(db_session(), _report_date())
    return render_template("terms/report.html", report=report)


@bp.route("/rapport.csv")
@require(Permission.VIEW_CLIENTS)
def report_csv() -> Response:
    report = opposability_report(db_session(), _report_date())
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "client_id",
            "raison_sociale",
            "siren",
            "version_opposable",
            "motif",
            "lie_par_" + "derniere_version_substantielle",
        ]
    )
    for row in report.rows:
        writer.writerow(
            [
                row.client.id,
                _csv_safe(row.client.legal_name),
                row.client.siren,
                row.version.label if row.version else NO_VERSION,
                row.reason,
                "oui" if row.bound_by_latest_material else "non",
            ]
        )
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="cgv-opposables-{report.at.isoformat()}.csv"'
    )
    return response


def _csv_safe(value: str) -> str:
    """A client name starting with = + - @ would run as a formula in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
