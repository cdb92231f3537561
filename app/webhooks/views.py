"""The webhooks' administration pages (role admin): endpoints created (secret shown once),
edited, disabled, rotated; the delivery log, redelivery and « Envoyer un événement de test »."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.clock import PARIS
from app.db import utcnow
from app.errors import FieldErrors
from app.rendering.french import plural
from app.webhooks import deliveries, endpoints, tasks, workflow
from app.webhooks.forms import ConfirmDeletionForm, EndpointForm, RedeliverSinceForm
from app.webhooks.models import WebhookEndpoint
from app.wiring import db_session, hand_over, runtime, unit_of_work

bp = Blueprint("webhook_views", __name__)


def _actor() -> str:
    user = current_user()
    return f"user:{user.id}" if user else "system"


def _require_https() -> bool:
    return runtime().settings.base_url.startswith("https://")


def _input(form: EndpointForm) -> endpoints.EndpointInput:
    return endpoints.EndpointInput(
        url=form.url.data or "",
        event_types=list(form.event_types.data or []),
        description=form.description.data or "",
        enabled=bool(form.enabled.data),
    )


def _attach(form: EndpointForm, exc: FieldErrors) -> None:
    for name, message in exc.errors.items():
        getattr(form, name).errors = [message]


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@require(Permission.MANAGE_WEBHOOKS)
def index() -> str | tuple[str, int]:
    form = EndpointForm()
    listed = endpoints.all_endpoints(db_session())
    if not form.is_submitted():
        return render_template("webhooks/endpoints.html", form=form, endpoints=listed)
    if form.validate():
        try:
            with unit_of_work() as db:
                created = endpoints.create(
                    db, _input(form), require_https=_require_https(), now=utcnow(), actor=_actor()
                )
        except FieldErrors as exc:
            _attach(form, exc)
        else:
            # Rendered, never redirected: the secret must not travel through the session.
            return render_template(
                "webhooks/endpoints.html",
                form=EndpointForm(formdata=None),
                endpoints=endpoints.all_endpoints(db_session()),
                created=created,
            )
    return render_template("webhooks/endpoints.html", form=form, endpoints=listed), 422


def _endpoint_page(
    endpoint: WebhookEndpoint, form: EndpointForm, *, secret_shown: bool = False
) -> str:
    log = deliveries.log_of(db_session(), endpoint.id)
    return render_template(
        "webhooks/endpoint.html",
        endpoint=endpoint,
        form=form,
        since_form=RedeliverSinceForm(formdata=None),
        log=log,
        attempts=deliveries.attempts_of(db_session(), [d.id for d in log]),
        secret_shown=secret_shown,
    )


@bp.route("/admin/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_WEBHOOKS)
def endpoint(endpoint_id: int) -> str | tuple[str, int] | Response:
    current = endpoints.get(db_session(), endpoint_id)
    form = EndpointForm(obj=current)
    if not form.is_submitted():
        return _endpoint_page(current, form)
    if form.validate():
        try:
            with unit_of_work() as db:
                endpoints.update(
                    db,
                    endpoint_id,
                    _input(form),
                    require_https=_require_https(),
                    now=utcnow(),
                    actor=_actor(),
                )
        except FieldErrors as exc:
            _attach(form, exc)
        else:
            flash("Point de réception enregistré.", "success")
            return redirect(url_for("webhook_views.endpoint", endpoint_id=endpoint_id))
    return _endpoint_page(current, form), 422


@bp.route("/admin/webhooks/<int:endpoint_id>/rotation", methods=["POST"])
@require(Permission.MANAGE_WEBHOOKS)
def rotate(endpoint_id: int) -> str:
    with unit_of_work() as db:
        rotated = endpoints.rotate(db, endpoint_id, now=utcnow(), actor=_actor())
    return _endpoint_page(rotated, EndpointForm(formdata=None, obj=rotated), secret_shown=True)


@bp.route("/admin/webhooks/<int:endpoint_id>/suppression", methods=["GET", "POST"])
@require(Permission.MANAGE_WEBHOOKS)
def delete(endpoint_id: int) -> str | Response:
    """A confirmation page (GET), then the deletion (POST, CSRF checked by the form)."""
    current = endpoints.get(db_session(), endpoint_id)
    form = ConfirmDeletionForm()
    if not form.validate_on_submit():
        return render_template("webhooks/delete.html", endpoint=current, form=form)
    with unit_of_work() as db:
        deleted = endpoints.delete(db, endpoint_id, now=utcnow(), actor=_actor())
    cancelled = plural(
        deleted.cancelled, "livraison en attente annulée", "livraisons en attente annulées"
    )
    flash(
        f"Point de réception n° {deleted.endpoint_id} supprimé, avec son journal ; {cancelled}.",
        "success",
    )
    return redirect(url_for("webhook_views.index"))


@bp.route("/admin/webhooks/<int:endpoint_id>/test", methods=["POST"])
@require(Permission.MANAGE_WEBHOOKS)
def send_test(endpoint_id: int) -> Response:
    delivery_id = workflow.send_test(hand_over(), endpoint_id, _actor())
    tasks.deliver.enqueue(delivery_id)
    flash(
        "Événement de test envoyé : son résultat apparaît dans le journal des livraisons.",
        "success",
    )
    return redirect(url_for("webhook_views.endpoint", endpoint_id=endpoint_id))


@bp.route("/admin/webhooks/livraisons/<int:delivery_id>/renvoi", methods=["POST"])
@require(Permission.MANAGE_WEBHOOKS)
def redeliver(delivery_id: int) -> Response:
    with unit_of_work() as db:
        delivery = deliveries.redeliver(db, delivery_id, now=utcnow())
        endpoint_id = delivery.endpoint_id
    tasks.deliver.enqueue(delivery_id)
    flash("Livraison relancée.", "success")
    return redirect(url_for("webhook_views.endpoint", endpoint_id=endpoint_id))


@bp.route("/admin/webhooks/<int:endpoint_id>/renvoi", methods=["POST"])
@require(Permission.MANAGE_WEBHOOKS)
def redeliver_since(endpoint_id: int) -> Response:
    form = RedeliverSinceForm()
    if not form.validate() or form.since.data is None:
        flash("Indiquez une date valide (« Depuis le »).", "error")
        return redirect(url_for("webhook_views.endpoint", endpoint_id=endpoint_id))
    # Midnight in Paris, as the admin means the date.
    since = datetime.combine(form.since.data, time.min, tzinfo=PARIS).astimezone(UTC)
    with unit_of_work() as db:
        ids = deliveries.redeliver_since(db, endpoints.get(db, endpoint_id), since, now=utcnow())
    for delivery_id in ids:
        tasks.deliver.enqueue(delivery_id)
    flash(f"{plural(len(ids), 'événement renvoyé', 'événements renvoyés')}.", "success")
    return redirect(url_for("webhook_views.endpoint", endpoint_id=endpoint_id))
