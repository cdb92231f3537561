"""`/espace-client`: the client's own space. A thin edge: each route finds the session's
client, calls one use case, commits, renders. The session is the `space` key of the signed
cookie, apart from a staff member's `user_id`: signing in or out of one leaves the other."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.archive import tasks as archive_tasks
from app.client_space import reading, signin, workflow
from app.client_space.errors import SignInLinkGone
from app.client_space.forms import AcceptCgvForm, ConfirmForm, SignInRequestForm
from app.client_space.models import SpaceSession
from app.clients import billing_contacts
from app.clients.errors import ClientInvalid
from app.clients.forms import BillingContactForm
from app.clock import business_date
from app.db import utcnow
from app.documents.serving import document_response
from app.extensions import limiter
from app.forms import apply_field_errors
from app.mail import MailError
from app.terms.acceptances import ClickThrough
from app.terms.errors import ConsentMissing
from app.terms.notifications import accept_in_space
from app.wiring import db_session, hand_over, runtime, unit_of_work

bp = Blueprint("client_space", __name__, url_prefix="/espace-client")

P = ParamSpec("P")
R = TypeVar("R")

SENT = (
    "Si cette adresse est celle d'un contact connu, un lien de connexion vient d'y être "
    "envoyé. Il est valable 30 minutes et ne sert qu'une fois."
)


def _space() -> SpaceSession | None:
    if "space" not in g:
        token = session.get("space")
        g.space = signin.current_session(
            db_session(), token if isinstance(token, str) else None, utcnow()
        )
    found: SpaceSession | None = g.space
    return found


def signed_in(view: Callable[P, R]) -> Callable[P, R | Response]:
    """The route needs a contact's session (else the sign-in page)."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if _space() is None:
            return redirect(url_for("client_space.index"))
        return view(*args, **kwargs)

    wrapped.__dict__["space_session"] = True  # read by the access-matrix test
    return wrapped


def _current() -> SpaceSession:
    space = _space()
    assert space is not None  # guaranteed by @signed_in
    return space


def _email_key() -> str:
    # A second limit per address: spread over many IPs, requests still cannot flood one inbox.
    return "space:" + (request.form.get("email") or "").strip().lower()


@bp.get("/")
def index() -> str | Response:
    space = _space()
    if space is None:
        return render_template("client_space/sign_in.html", form=SignInRequestForm(), sent=None)
    return _home(space)


def _home(
    space: SpaceSession,
    *,
    contact_form: BillingContactForm | None = None,
    cgv_error: str | None = None,
    status: int = 200,
) -> str | Response:
    now = utcnow()
    with unit_of_work() as db:
        home = reading.home(db, space, as_of=business_date(now), now=now)
    page = render_template(
        "client_space/home.html",
        home=home,
        space=space,
        contact_form=contact_form or BillingContactForm(formdata=None),
        accept_form=AcceptCgvForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        cgv_error=cgv_error,
    )
    return Response(page, status=status) if status != 200 else page


@bp.post("/connexion")
@limiter.limit("5 per 15 minutes")
@limiter.limit("3 per hour", key_func=_email_key)
def request_link() -> str | tuple[str, int]:
    form = SignInRequestForm()
    if not form.validate_on_submit():
        return render_template("client_space/sign_in.html", form=form, sent=None), 422
    try:
        workflow.request_sign_in(hand_over(), form.email.data or "")
    except MailError as exc:  # the same answer: another page would tell the address is known
        current_app.logger.warning("client space sign-in mail not sent: %s", exc)
    return render_template("client_space/sign_in.html", form=None, sent=SENT)


@bp.get("/connexion/<token>")
@limiter.limit("30 per minute")
def confirm_page(token: str) -> str | tuple[str, int]:
    try:
        link = signin.check_link(db_session(), token, utcnow())
    except SignInLinkGone as exc:
        return render_template("client_space/link_gone.html", message=exc.detail), 410
    return render_template("client_space/confirm.html", form=ConfirmForm(), link=link)


@bp.post("/connexion/<token>")
@limiter.limit("30 per minute")
def sign_in(token: str) -> str | tuple[str, int] | Response:
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("client_space/link_gone.html", message=_csrf_expired()), 400
    try:
        with unit_of_work() as db:
            opened = signin.open_session(db, token, now=utcnow(), ip=request.remote_addr)
    except SignInLinkGone as exc:
        return render_template("client_space/link_gone.html", message=exc.detail), 410
    session["space"] = opened.token
    return redirect(url_for("client_space.index"))


def _csrf_expired() -> str:
    return "La page a expiré : rouvrez le lien reçu par courriel et cliquez à nouveau."


@bp.post("/deconnexion")
def sign_out() -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400, _csrf_expired())
    token = session.pop("space", None)
    with unit_of_work() as db:
        signin.end_session(db, token if isinstance(token, str) else None, now=utcnow())
    return redirect(url_for("client_space.index"))


@bp.get("/documents/<int:document_id>")
@signed_in
def document(document_id: int) -> Response:
    space = _current()
    db = db_session()
    found = reading.document_of(db, space.client_id, document_id)
    return document_response(
        db, runtime().store, found, actor=f"contact:{space.email}", download=True
    )


@bp.post("/contacts")
@signed_in
def add_contact() -> str | Response:
    space = _current()

    def add(db: Session, data: billing_contacts.ContactInput, actor: str) -> None:
        client = reading.client_of(db, space)
        billing_contacts.add_contact(db, client, data, now=utcnow(), actor=actor)

    return _save_contact(space, add)


@bp.post("/contacts/<int:contact_id>")
@signed_in
def update_contact(contact_id: int) -> str | Response:
    space = _current()

    def update(db: Session, data: billing_contacts.ContactInput, actor: str) -> None:
        contact = billing_contacts.get_contact(db, space.client_id, contact_id)
        billing_contacts.update_contact(db, contact, data, now=utcnow(), actor=actor)

    return _save_contact(space, update)


def _save_contact(
    space: SpaceSession,
    write: Callable[[Session, billing_contacts.ContactInput, str], None],
) -> str | Response:
    """Adding and editing a contact answer the form alike: back to the contacts once written
    in one transaction, else the page again with the form's errors (422)."""
    form = BillingContactForm()
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                write(db, _contact_input(form), f"contact:{space.email}")
        except ClientInvalid as exc:
            apply_field_errors(form, exc)
        else:
            return redirect(url_for("client_space.index") + "#contacts")
    return _home(space, contact_form=form, status=422)


def _contact_input(form: BillingContactForm) -> billing_contacts.ContactInput:
    return billing_contacts.ContactInput(
        name=form.name.data or "", email=form.email.data or "", active=bool(form.active.data)
    )


@bp.post("/cgv/<int:version_id>/accepter")
@signed_in
def accept_cgv(version_id: int) -> str | Response:
    space = _current()
    form = AcceptCgvForm()
    if not form.validate_on_submit():
        return _home(space, cgv_error=_csrf_expired(), status=400)
    try:
        with unit_of_work() as db:
            accept_in_space(
                db,
                space.client_id,
                version_id=version_id,
                click=ClickThrough(
                    shown_sha256=form.text_sha256.data or "",
                    consent=bool(form.accept.data),
                    ip=request.remote_addr,
                    user_agent=request.user_agent.string,
                ),
                person_email=space.email,
                now=utcnow(),
            )
    except ConsentMissing as exc:
        return _home(space, cgv_error=exc.detail, status=422)
    return redirect(url_for("client_space.index") + "#cgv")


@bp.post("/restitution")
@signed_in
def restitution() -> str | Response:
    space = _current()
    if not ConfirmForm().validate_on_submit():
        abort(400, _csrf_expired())
    request_id = workflow.order_restitution(hand_over(), space.client_id, email=space.email)
    if request_id is not None:
        archive_tasks.build_restitution.enqueue(request_id)
    return redirect(url_for("client_space.index") + "#restitution")
