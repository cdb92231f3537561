from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth.guards import require, signed_in_user
from app.auth.rules import Permission
from app.clients import billing_contacts, services
from app.clients.errors import ClientChanged, ClientDuplicate, ClientInvalid
from app.clients.forms import BillingContactForm, ClientForm, EditClientForm, InvoicesByEmailForm
from app.clients.models import Client
from app.db import utcnow
from app.forms import add_missing_field_errors, apply_field_errors
from app.wiring import db_session, unit_of_work

bp = Blueprint("clients", __name__, url_prefix="/clients")


@bp.route("/")
@require(Permission.VIEW_CLIENTS)
def index() -> str:
    return render_template("clients/index.html", clients=services.list_clients(db_session()))


@bp.route("/nouveau", methods=["GET", "POST"])
@require(Permission.MANAGE_CLIENTS)
def new() -> str | Response | tuple[str, int]:
    form = ClientForm()
    if form.validate_on_submit():
        user = signed_in_user()
        # Both refusals are answered on the form itself (field errors, or the duplicates with
        # a confirmation box), not on an error page.
        try:
            with unit_of_work() as db:
                client = services.create_client(
                    db,
                    _client_input(form),
                    actor=f"user:{user.id}",
                    now=utcnow(),
                    created_by_id=user.id,
                    confirm_duplicate=bool(form.confirm_duplicate.data),
                )
        except ClientInvalid as exc:
            apply_field_errors(form, exc)
            return render_template("clients/new.html", form=form), 422
        except ClientDuplicate as exc:
            return render_template("clients/new.html", form=form, duplicates=exc), 409
        flash(f"Client « {client.legal_name} » créé.", "success")
        return redirect(url_for("overview.client", client_id=client.id))
    _add_domain_errors(form)
    status = 422 if form.errors else 200
    return render_template("clients/new.html", form=form), status


def _add_domain_errors(form: ClientForm) -> None:
    if form.errors:
        # the form stopped at its own checks: the domain's checks of the other fields too
        try:
            services.validate(_client_input(form))
        except ClientInvalid as exc:
            add_missing_field_errors(form, exc)


@bp.route("/<int:client_id>/modifier", methods=["GET", "POST"])
@require(Permission.MANAGE_CLIENTS)
def edit(client_id: int) -> str | Response | tuple[str, int]:
    client = services.get_client(db_session(), client_id)
    services.check_editable(client)  # terminated: the error page says its data no longer change
    if request.method != "POST":
        return _edit_page(_form_of(client), client)
    form = EditClientForm()
    if not form.validate_on_submit():
        _add_domain_errors(form)
        return _edit_page(form, client, 422)
    try:
        with unit_of_work() as db:
            changed = services.update_client(
                db,
                services.get_client(db, client_id, for_update=True),
                _client_input(form),
                actor=_actor(),
                now=utcnow(),
                confirm_duplicate=bool(form.confirm_duplicate.data),
                revisions={form.revision.data or 0},
            )
    except ClientInvalid as exc:
        apply_field_errors(form, exc)
        return _edit_page(form, client, 422)
    except ClientDuplicate as exc:
        return _edit_page(form, client, 409, duplicates=exc)
    except ClientChanged as exc:
        # Submitted as is, what was typed would undo the other person's change: the form
        # starts again from the record as it is now (and its revision), with the reason, and
        # every value typed that differs from it is shown beside the value now recorded, so
        # that nothing typed is lost and the person decides field by field.
        current = services.get_client(db_session(), client_id)
        fresh = _form_of(current)
        return _edit_page(
            fresh, current, 409, changed=exc, differing=_differing(form, fresh, current)
        )
    if changed:
        flash("Fiche client mise à jour.", "success")
    else:
        flash("Aucune modification : la fiche client est restée telle quelle.", "info")
    return redirect(url_for("overview.client", client_id=client_id))


def _actor() -> str:
    """Who acts, as the journal names them."""
    return f"user:{signed_in_user().id}"


def _differing(typed: ClientForm, fresh: ClientForm, client: Client) -> list[tuple[str, str, str]]:
    """(label, value typed, value recorded) of each field the submitted form has otherwise
    than the record now (spaces around a value do not count: the record has them trimmed)."""
    recorded = dataclasses.asdict(services.input_of(client))
    typed_values = dataclasses.asdict(_client_input(typed))
    return [
        (str(fresh[name].label.text), typed_values[name], value)
        for name, value in recorded.items()
        if typed_values[name].strip() != value.strip()
    ]


def _form_of(client: Client) -> EditClientForm:
    """The edit form filled from the record as it is, at its current revision."""
    data = {**dataclasses.asdict(services.input_of(client)), "revision": client.revision}
    return EditClientForm(formdata=None, data=data)


def _edit_page(
    form: EditClientForm, client: Client, status: int = 200, **shown: object
) -> tuple[str, int]:
    return render_template("clients/edit.html", form=form, client=client, **shown), status


def _client_input(form: ClientForm) -> services.ClientInput:
    return services.ClientInput(
        legal_name=form.legal_name.data or "",
        siren=form.siren.data or "",
        vat_number=form.vat_number.data or "",
        address=form.address.data or "",
        postal_code=form.postal_code.data or "",
        city=form.city.data or "",
        signer_name=form.signer_name.data or "",
        signer_email=form.signer_email.data or "",
        signer_title=form.signer_title.data or "",
        country=form.country.data or "",
    )


@bp.route("/<int:client_id>/facturation")
@require(Permission.VIEW_CLIENTS)
def billing(client_id: int) -> Any:
    return _billing_page(client_id, BillingContactForm(formdata=None))


def _billing_page(client_id: int, form: BillingContactForm, status: int = 200) -> Any:
    db = db_session()
    client = services.get_client(db, client_id)
    page = render_template(
        "clients/billing.html",
        client=client,
        contacts=billing_contacts.contacts_of(db, client.id),
        form=form,
        setting=InvoicesByEmailForm(
            formdata=None, send_invoices_by_email=client.send_invoices_by_email
        ),
    )
    return (page, status) if status != 200 else page


@bp.route("/<int:client_id>/facturation/contacts", methods=["POST"])
@require(Permission.MANAGE_CLIENTS)
def add_billing_contact(client_id: int) -> Any:
    return _save_contact(client_id, None)


@bp.route("/<int:client_id>/facturation/contacts/<int:contact_id>", methods=["POST"])
@require(Permission.MANAGE_CLIENTS)
def update_billing_contact(client_id: int, contact_id: int) -> Any:
    return _save_contact(client_id, contact_id)


def _save_contact(client_id: int, contact_id: int | None) -> Any:
    form = BillingContactForm()
    if form.validate_on_submit():
        data = billing_contacts.ContactInput(
            name=form.name.data or "", email=form.email.data or "", active=bool(form.active.data)
        )
        try:
            with unit_of_work() as db:
                if contact_id is None:
                    billing_contacts.add_contact(
                        db,
                        services.get_client(db, client_id),
                        data,
                        now=utcnow(),
                        actor=_actor(),
                    )
                else:
                    billing_contacts.update_contact(
                        db,
                        billing_contacts.get_contact(db, client_id, contact_id),
                        data,
                        now=utcnow(),
                        actor=_actor(),
                    )
        except ClientInvalid as exc:
            apply_field_errors(form, exc)
        else:
            flash(f"Contact de facturation « {data.name.strip()} » enregistré.", "success")
            return redirect(url_for("clients.billing", client_id=client_id))
    return _billing_page(client_id, form, status=422)


@bp.route("/<int:client_id>/facturation/envoi", methods=["POST"])
@require(Permission.MANAGE_CLIENTS)
def invoices_by_email(client_id: int) -> Any:
    form = InvoicesByEmailForm()
    if not form.validate_on_submit():
        return _billing_page(client_id, BillingContactForm(formdata=None), status=400)
    with unit_of_work() as db:
        billing_contacts.set_invoices_by_email(
            db,
            services.get_client(db, client_id),
            bool(form.send_invoices_by_email.data),
            now=utcnow(),
            actor=_actor(),
        )
    flash("Réglage d'envoi des factures enregistré.", "success")
    return redirect(url_for("clients.billing", client_id=client_id))
