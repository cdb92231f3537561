"""Every field of every web form refuses what is not typed text: control characters, bidi
overrides in single-line fields, a file sent in `multipart` in place of a value. The answer is a
422 with the French message next to the field, and nothing is written.

The field lists come from the form classes themselves: a field added to one of these forms is
covered without touching this file."""

from __future__ import annotations

import importlib
import io
import pkgutil
import re
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.datastructures import CombinedMultiDict
from wtforms import PasswordField, StringField, SubmitField, TextAreaField
from wtforms.fields import FieldList, FormField, SelectFieldBase
from wtforms.fields.core import UnboundField

import app as app_package
from app.audit.models import AuditEvent
from app.auth.forms import ApiTokenForm, InviteForm
from app.auth.models import ApiToken, Role, User
from app.clauses.forms import ClauseForm
from app.clauses.models import Clause
from app.clients.forms import ClientForm
from app.clients.models import Client
from app.db import transaction, utcnow
from app.errors import FieldErrors
from app.forms import FrenchForm, FrenchSubForm
from app.quotes.forms import ProductForm, QuoteForm
from app.quotes.models import Product, Quote, QuoteLine
from app.signatures import lifecycle
from app.terms.errors import CgvInvalid
from app.terms.forms import CgvVersionForm
from app.terms.models import CgvPreview, CgvVersion, VersionKind
from app.terms.versions import publish_version
from tests.conftest import csrf_from
from tests.factories import VALID_CLIENT, VALID_PRODUCT, count, login_as, make_client, runtime
from tests.integration.fixtures_security import check_each, field_errors, line_cell_errors

CONTROL = "Caractère de contrôle interdit (U+{:04X})"
BIDI = "Caractère de contrôle du sens d'écriture interdit (U+{:04X})"
NOT_TEXT = "Un fichier ou une valeur non textuelle a été envoyé à la place du texte attendu"


@dataclass(frozen=True)
class WebForm:
    form: type[FrenchForm]
    role: Role
    url: str  # {client} is replaced by an existing client's id
    valid: dict[str, Any]
    models: tuple[Any, ...]  # the tables a refused submission must leave untouched
    sub_prefix: dict[str, str] = field(default_factory=dict)  # FieldList name → "lines-0-"


CGV_BODY = "# CGV\n\n## Article 1. Objet\n\nLe service.\n"
LINE = {
    "lines-0-designation": "Abonnement Premium",
    "lines-0-quantity": "12",
    "lines-0-unit_price": "1 250,00",
    "lines-0-vat_rate": "20",
}
WEB_FORMS = [
    WebForm(ClientForm, Role.SALES, "/clients/nouveau", VALID_CLIENT, (Client,)),
    WebForm(
        QuoteForm,
        Role.SALES,
        "/devis/nouveau/{client}",
        {**LINE, "save": "Enregistrer"},
        (Quote, QuoteLine),
        {"lines": "lines-0-"},
    ),
    WebForm(
        ClauseForm,
        Role.LEGAL,
        "/clauses/",
        {"title": "Confidentialité", "body_markdown": "Les parties se taisent."},
        (Clause,),
    ),
    WebForm(
        CgvVersionForm,
        Role.LEGAL,
        "/cgv/nouvelle",
        {
            "label": "1.0",
            "title": "Conditions générales de vente",
            "effective_date": "2024-01-01",
            "kind": "minor",
            "summary": "Première version.",
            "body_markdown": CGV_BODY,
            "source_format": "markdown",
        },
        (CgvVersion, CgvPreview),
    ),
    WebForm(
        ProductForm,
        Role.ADMIN,
        "/devis/catalogue",
        VALID_PRODUCT,
        (Product,),
    ),
    WebForm(
        ApiTokenForm, Role.ADMIN, "/admin/jetons", {"name": "GED", "scopes": "read"}, (ApiToken,)
    ),
    WebForm(
        InviteForm,
        Role.ADMIN,
        "/admin/utilisateurs",
        {"full_name": "Claire Commerciale", "email": "claire@example.com", "role": "sales"},
        (User,),
    ),
]


def _unbound(form_class: type[Any]) -> list[tuple[str, UnboundField]]:
    return sorted(
        (name, value)
        for name in dir(form_class)
        if isinstance(value := getattr(form_class, name), UnboundField)
    )


def form_fields(web: WebForm) -> list[tuple[str, type[Any]]]:
    """(submitted name, field class) of every input of the form, sub-forms expanded."""
    fields: list[tuple[str, type[Any]]] = []
    for name, unbound in _unbound(web.form):
        if issubclass(unbound.field_class, SubmitField):
            continue
        if issubclass(unbound.field_class, FieldList):
            inner = unbound.args[0]
            assert issubclass(inner.field_class, FormField)
            sub_form = inner.args[0]
            assert issubclass(sub_form, FrenchSubForm)
            prefix = web.sub_prefix[name]
            fields += [
                (prefix + sub_name, sub.field_class)
                for sub_name, sub in _unbound(sub_form)
                if not issubclass(sub.field_class, SubmitField)
            ]
        else:
            fields.append((name, unbound.field_class))
    return fields


def _is_text(field_class: type[Any]) -> bool:
    return issubclass(field_class, StringField) and not issubclass(field_class, PasswordField)


TEXT_CASES = [
    pytest.param(web, name, field_class, id=f"{web.form.__name__}.{name}")
    for web in WEB_FORMS
    for name, field_class in form_fields(web)
    if _is_text(field_class)
]
ALL_CASES = [
    pytest.param(web, name, id=f"{web.form.__name__}.{name}")
    for web in WEB_FORMS
    for name, _field_class in form_fields(web)
]


def test_the_field_lists_are_read_from_the_form_classes() -> None:
    # the generator sees the fields the forms define, sub-forms included
    names = {name for web in WEB_FORMS for name, _cls in form_fields(web)}
    assert {"siren", "legal_name", "lines-0-designation", "body_markdown", "name"} <= names
    assert len(ALL_CASES) >= 26 and len(TEXT_CASES) >= 20


def errors_shown(html: str, name: str) -> list[str]:
    """The messages next to input `name`, whichever way its template renders errors."""
    if name in (shown := field_errors(html)):
        return shown[name]
    if name in (cells := line_cell_errors(html)):
        return cells[name]
    # a field rendered in its own fieldset (the CGV kind): its errors follow its inputs
    block = re.search(rf'<fieldset[^>]*id="{name}".*?</fieldset>', html, re.S)
    if block:
        return [unescape(m) for m in re.findall(r'<p class="field-error">(.*?)</p>', block[0])]
    return []


class Submitter:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.browsers: dict[Role, FlaskClient] = {}
        self.client_id = make_client(app, siren="732829320", vat_number="")

    def post(
        self, web: WebForm, changes: dict[str, Any], *, refused: bool = True
    ) -> tuple[int, str]:
        browser = self.browsers.get(web.role) or login_as(self.app, web.role)
        self.browsers[web.role] = browser
        url = web.url.format(client=self.client_id)
        page = browser.get(url)
        assert page.status_code == 200, (url, page.status_code)
        data = {"csrf_token": csrf_from(page.get_data(as_text=True)), **web.valid, **changes}
        before = self.counts(web)
        response = browser.post(url, data=data, content_type="multipart/form-data")
        if refused:
            assert self.counts(web) == before, "a refused submission wrote something"
        return response.status_code, response.get_data(as_text=True)

    def counts(self, web: WebForm) -> list[int]:
        return [count(self.app, model) for model in web.models] + [
            count(self.app, AuditEvent, AuditEvent.actor.like("user:%"))
        ]


@pytest.fixture
def submitter(app: Flask) -> Submitter:
    return Submitter(app)


def _bad_values(field_class: type[Any]) -> list[tuple[str, str]]:
    """(value, expected message) refused in a text field of this class."""
    cases = [
        (f"Texte{char}suite", CONTROL.format(ord(char)))
        for char in ("\x00", "\x1b", "\x07", "\x7f", "\x85", "\x9b")
    ]
    if issubclass(field_class, TextAreaField):
        cases.append(("Ligne 1\r\nLigne 2\x0b", CONTROL.format(0x0B)))
    else:
        cases += [
            ("Texte\tsuite", CONTROL.format(0x09)),
            ("Texte\nsuite", CONTROL.format(0x0A)),
            ("ACME \u202eSAS", BIDI.format(0x202E)),
            ("ACME \u202aSAS", BIDI.format(0x202A)),
            ("ACME \u2066SAS\u2069", BIDI.format(0x2066)),
            ("ACME \u2069SAS", BIDI.format(0x2069)),
        ]
    return cases


@pytest.mark.parametrize(("web", "name", "field_class"), TEXT_CASES)
def test_control_and_bidi_characters_are_refused_in_every_text_field(
    submitter: Submitter, web: WebForm, name: str, field_class: type[Any]
) -> None:
    def check(value: str, message: str) -> None:
        status, html = submitter.post(web, {name: value})
        assert status == 422, status
        shown = errors_shown(html, name)
        assert any(message in m for m in shown), (shown, message)

    check_each(_bad_values(field_class), check)


@pytest.mark.parametrize(("web", "name"), ALL_CASES)
def test_a_file_in_place_of_a_value_is_a_field_error(
    submitter: Submitter, web: WebForm, name: str
) -> None:
    status, html = submitter.post(web, {name: (io.BytesIO(b"552100554"), "valeur.txt")})
    assert status == 422, status
    if f'name="{name}"' not in html:
        return  # a field this page does not show (ProductForm.active here): refused all the same
    assert any(NOT_TEXT in m for m in errors_shown(html, name)), errors_shown(html, name)


def test_a_nul_in_the_cgv_body_is_refused_and_the_clean_body_is_previewed(
    submitter: Submitter,
) -> None:
    (cgv,) = [web for web in WEB_FORMS if web.form is CgvVersionForm]
    status, html = submitter.post(cgv, {"body_markdown": CGV_BODY + "\x00"})
    assert status == 422
    (message,) = errors_shown(html, "body_markdown")
    assert message.startswith(CONTROL.format(0)), message
    status, _html = submitter.post(
        cgv, {"body_markdown": CGV_BODY + "\tTabulé.\r\n"}, refused=False
    )
    assert status == 302  # to its preview, the step before any publication
    assert count(submitter.app, CgvPreview) == 1


def test_every_error_of_one_submission_is_shown_at_once(submitter: Submitter) -> None:
    (client_form,) = [web for web in WEB_FORMS if web.form is ClientForm]
    status, html = submitter.post(
        client_form,
        {
            "legal_name": "ACME\u202e SAS",
            "city": "Lyon\x00",
            "siren": (io.BytesIO(b"552100554"), "siren.txt"),
        },
    )
    assert status == 422
    shown = field_errors(html)
    assert set(shown) == {"legal_name", "city", "siren"}, shown


def test_the_cgv_service_refuses_a_nul_in_the_body_too(app: Flask) -> None:
    # the form refuses it first; the service holds the rule for every other caller
    with transaction(runtime(app).session_factory) as session, pytest.raises(CgvInvalid) as exc:
        publish_version(
            session,
            label="1.0",
            title="Conditions générales de vente",
            effective_date=date(2024, 1, 1),
            body_markdown=CGV_BODY + "\x00",
            summary="",
            kind=VersionKind.MINOR,
            now=utcnow(),
            actor="test",
        )
    assert exc.value.errors["body_markdown"].startswith(CONTROL.format(0))
    assert count(app, CgvVersion) == 0


# --- every form class of the application, bound directly -------------------------------------


def _all_form_classes() -> list[type[Any]]:
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        if not module.name.startswith("app.migrations"):
            importlib.import_module(module.name)
    found: list[type[Any]] = []
    pending: list[type[Any]] = [FrenchForm, FrenchSubForm]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.append(sub)
            pending.append(sub)
    return sorted(set(found), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


ALL_FORM_FIELDS = [
    pytest.param(form_class, name, unbound.field_class, id=f"{form_class.__qualname__}.{name}")
    for form_class in _all_form_classes()
    for name, unbound in _unbound(form_class)
    if _is_text(unbound.field_class)
]


def test_every_form_of_the_application_is_found() -> None:
    classes = {cls.__name__ for cls in _all_form_classes()}
    assert {"ClientForm", "QuoteForm", "LineForm", "CgvVersionForm", "ClauseForm"} <= classes
    assert {"ManualInvoiceForm", "CreditNoteForm", "TerminationForm", "LoginForm"} <= classes


@pytest.mark.parametrize(("form_class", "name", "field_class"), ALL_FORM_FIELDS)
def test_every_text_field_of_every_form_class_refuses_bad_characters(
    app: Flask, form_class: type[Any], name: str, field_class: type[Any]
) -> None:
    """Forms without a page in the HTTP tests above (invoices, payments, rates…) too: the rule
    is bound by FrenchMeta to every field, so a new form or field gets it without a line here."""
    cases = [*_bad_values(field_class), ((io.BytesIO(b"x"), "valeur.txt"), NOT_TEXT)]

    def check(value: Any, message: str) -> None:
        with app.test_request_context(
            method="POST", data={name: value}, content_type="multipart/form-data"
        ):
            if issubclass(form_class, FrenchForm):
                form = form_class(meta={"csrf": False})  # reads the request, as in a view
            else:  # a sub-form gets its data from the enclosing form: here, the same mix
                # Texts and files in one mapping, as WTForms (untyped) reads them.
                data = CombinedMultiDict[str, Any]((request.files, request.form))
                form = form_class(data)
            for bound in form:  # choices the view sets from the database
                if isinstance(bound, SelectFieldBase) and bound.choices is None:
                    bound.choices = []
            assert not form.validate()
            errors = form._fields[name].errors
            assert any(message in e for e in errors), errors

    check_each(cases, check)


# --- free text read outside WTForms (the signer's refusal, the sender's cancellation) --------


@pytest.mark.parametrize("service", ["decline", "cancel"])
def test_refusal_and_cancellation_reasons_refuse_control_characters(
    app: Flask, service: str
) -> None:
    # checked before anything is looked up: nothing is read, locked or written
    with transaction(runtime(app).session_factory) as session:
        with pytest.raises(FieldErrors) as exc:
            if service == "decline":
                lifecycle.decline(session, "jeton-inconnu", "Non\x00merci", now=utcnow(), ip=None)
            else:
                lifecycle.cancel(session, 999_999, "Erreur\x1b[2J", now=utcnow(), actor="test")
        assert exc.value.errors["reason"].startswith("Caractère de contrôle interdit")
