"""The admins' page of failed background jobs ("Travaux en échec"), beside the stuck seals,
with the same guard, and its "Relancer" and "Retirer de la liste" buttons."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import require, signed_in_user
from app.auth.rules import Permission
from app.db import utcnow
from app.job_runs import heartbeats, runs, workflow
from app.job_runs.backlog import backlog
from app.mail import outbox
from app.rendering.labels import TASK_LABELS
from app.wiring import db_session, runtime, unit_of_work

bp = Blueprint("job_runs", __name__, url_prefix="/travaux")


@bp.route("/en-echec")
@require(Permission.OPERATE_SIGNATURES)
def failed() -> str:
    db = db_session()
    failed = workflow.needing_attention(db)
    return render_template(
        "job_runs/failed.html",
        queue=backlog(),
        workers=heartbeats.liveness(db, utcnow()),
        failed=failed,
        nothing_to_relaunch=workflow.nothing_to_relaunch(db, failed),
        retrying=runs.retrying(db),
        failed_mails=outbox.failed_mails(db),
        task_labels=TASK_LABELS,
    )


@bp.route("/<int:run_id>/relancer", methods=["POST"])
@require(Permission.OPERATE_SIGNATURES)
def relaunch(run_id: int) -> BaseResponse:
    # The guard's read ends here: the relaunch has its own transactions, and an inline job
    # runs right now in this request (on SQLite, an open transaction would hold it up).
    db_session().rollback()
    done = workflow.relaunch(runtime().collaborators(utcnow()), run_id)
    if done.problem is not None:
        flash(done.problem, "error")
    elif done.name is None:
        flash("Ce travail a déjà été relancé, ou n'est plus en échec.", "info")
    else:
        flash(f"Travail « {TASK_LABELS.get(done.name, done.name)} » relancé.", "success")
    return redirect(url_for("job_runs.failed"))


_DISMISSAL_FLASHES = {
    workflow.Dismissal.DISMISSED: ("Travail retiré de la liste (il reste au journal).", "success"),
    workflow.Dismissal.NOT_LISTED: (
        "Ce travail a déjà été retiré de la liste ou relancé, ou n'est plus en échec.",
        "info",
    ),
    workflow.Dismissal.RELAUNCHABLE: (
        "Ce travail peut encore être relancé : utilisez « Relancer ».",
        "error",
    ),
}


@bp.route("/<int:run_id>/retirer", methods=["POST"])
@require(Permission.OPERATE_SIGNATURES)
def dismiss(run_id: int) -> BaseResponse:
    """A failed run with nothing left to relaunch, off the list: its row stays (what failed)."""
    user = signed_in_user()
    with unit_of_work() as db:
        done = workflow.dismiss(db, run_id, actor=f"user:{user.id}", now=utcnow())
    flash(*_DISMISSAL_FLASHES[done])
    return redirect(url_for("job_runs.failed"))


@bp.route("/courriels/<int:mail_id>/relancer", methods=["POST"])
@require(Permission.OPERATE_SIGNATURES)
def retry_mail(mail_id: int) -> BaseResponse:
    """A mail every attempt of which failed (an invoice to a billing contact, a code…) gets
    a new round of attempts, enqueued once this commits."""
    with unit_of_work() as db:
        retried = outbox.retry_mail(db, mail_id)
    if retried:
        flash("Courriel remis dans la file d'envoi.", "success")
    else:
        flash("Ce courriel a déjà été relancé, ou n'est plus en échec.", "info")
    return redirect(url_for("job_runs.failed"))
