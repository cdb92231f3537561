"""The admins' page of failed background jobs ("Travaux en échec"), beside the stuck seals,
with the same guard, and its "Relancer" and "Retirer de la liste" buttons."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.db import utcnow
from app.job_runs import runs, workflow
from app.mail import outbox
from app.wiring import db_session, runtime, unit_of_work

bp = Blueprint("job_runs", __name__, url_prefix="/travaux")

# The French name of each background job: the queue's names (`signatures.seal`…) are for
# support, not for the people who read the page. One entry per job declared with `@job` /
# `@periodic` (tests/unit/test_task_labels.py fails when one has none, or names no job). A job
# with none (a test's, an older release's run) is shown, like in the flash, by its queue name.
TASK_LABELS: dict[str, str] = {
    "archive.build_restitution": "Préparation d'une archive de restitution",
    "archive.purge": "Purge des données arrivées en fin de conservation",
    "audit.anchor": "Ancrage du journal d'audit",
    "backups.run": "Sauvegarde",
    "contracts.generate": "Génération du contrat",
    "contracts.generate_requested": "Génération d'un contrat demandé",
    "contracts.sweep": "Reprise des générations de contrats en attente",
    "idempotency.purge": "Purge des clés d'idempotence",
    "invoices.produce_pdf": "Production du PDF d'une facture",
    "invoices.produce_missing": "Production des PDF de factures manquants",
    "invoices.remind": "Relance des factures impayées",
    "job_runs.prune": "Nettoyage de l'historique des travaux",
    "mail.deliver": "Envoi d'un courriel",
    "mail.requeue": "Reprise des courriels en attente",
    "signatures.expire": "Expiration des demandes de signature",
    "signatures.page_images": "Images des pages d'un contrat à signer",
    "signatures.remind": "Relance des signataires",
    "signatures.seal": "Scellement du contrat signé",
    "signatures.sign": "Apposition d'une signature",
    "signatures.sweep": "Reprise des signatures et cachets en attente",
    "terms.fan_out": "Annonce d'une nouvelle version des CGV",
    "terms.notify": "Envoi d'une nouvelle version des CGV à des clients",
    "terms.render_pdf": "Production du PDF des CGV",
    "terms.render_preview": "Aperçu PDF des CGV",
    "terms.sweep": "Reprise des publications de CGV en attente",
    "webhooks.deliver": "Livraison d'un webhook",
    "webhooks.dispatch": "Répartition des webhooks à livrer",
    "webhooks.sweep": "Reprise des webhooks en attente",
}


@bp.route("/en-echec")
@require(Permission.OPERATE_SIGNATURES)
def failed() -> str:
    db = db_session()
    failed = workflow.needing_attention(db)
    return render_template(
        "job_runs/failed.html",
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
    user = current_user()
    assert user is not None  # the guard sent anyone else to the login page
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
