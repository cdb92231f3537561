"""Paraphe's application factory: the one module that knows every feature (it registers their
blueprints, commands and template helpers). Wiring only: nothing runs at import time."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, url_for
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from app.access_log import register_access_log
from app.archive import tasks as archive_tasks
from app.archive.api import bp as archive_api
from app.archive.views import bp as restitution_views
from app.archive.views import docs_bp as api_docs
from app.audit import tasks as audit_tasks
from app.auth.admin import bp as auth_admin
from app.auth.guards import current_user
from app.auth.password_views import bp as password_views
from app.auth.ratelimit import storage_uri
from app.auth.rules import Permission, can
from app.auth.users_admin import bp as users_admin
from app.auth.views import bp as auth_views
from app.backups import tasks as backup_tasks
from app.branding_views import bp as branding_views
from app.clauses.views import bp as clause_views
from app.cli import register_commands
from app.client_space.views import bp as client_space_views
from app.clients.api import bp as clients_api
from app.clients.views import bp as client_views
from app.config import RATELIMIT_DATABASE, Settings
from app.contracts import tasks as contract_tasks
from app.contracts.api import bp as contracts_api
from app.contracts.views import bp as contract_views
from app.db import make_engine, make_session_factory, utcnow
from app.events import outbox
from app.extensions import csrf, limiter
from app.home import bp as home
from app.http_errors import register_error_handlers
from app.idempotency import tasks as idempotency_tasks
from app.invoices import tasks as invoice_tasks
from app.invoices.api import bp as invoices_api
from app.invoices.views import bp as invoice_views
from app.job_runs import heartbeats
from app.job_runs import recording as job_run_recording
from app.job_runs import tasks as job_run_tasks
from app.job_runs.health import bp as health_views
from app.job_runs.views import bp as job_run_views
from app.mail import Mailer, OutboxMailer, SmtpMailer
from app.mail import tasks as mail_tasks
from app.mail.outbox import QueuedMailer
from app.overview.views import bp as overview_views
from app.queue import broker as queue_broker
from app.queue import context as queue_context
from app.quotes.api import bp as quotes_api
from app.quotes.views import bp as quote_views
from app.rendering import french
from app.rendering.labels import label
from app.rendering.mail_layout import VendorMailLayout
from app.runtime import Runtime
from app.signatures import tasks as signature_tasks
from app.signatures.api import bp as signatures_api
from app.signatures.request_views import requests_bp, sending_bp
from app.signatures.verify_views import verify_bp
from app.signatures.views import bp as signing_views
from app.storage_config import build_store
from app.terms import tasks as terms_tasks
from app.terms.api import bp as terms_api
from app.terms.views import bp as cgv_views
from app.webhooks import tasks as webhook_tasks
from app.webhooks.api import bp as webhooks_api
from app.webhooks.views import bp as webhook_views
from app.wiring import db_session

TASK_MODULES = (
    signature_tasks,
    mail_tasks,
    job_run_tasks,
    webhook_tasks,
    invoice_tasks,
    archive_tasks,
    audit_tasks,
    backup_tasks,
    contract_tasks,
    terms_tasks,
    idempotency_tasks,
)
"""The features' job declarations: imported here, so every process that builds the
application (web, worker, command) knows every job before it enqueues or consumes one."""


class _JsonProvider(DefaultJSONProvider):
    ensure_ascii = False  # French text stays readable in API answers
    sort_keys = False


class _IdConverter(IntegerConverter):
    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.instance_dir.mkdir(parents=True, exist_ok=True)

    # Named "app", the package: templates, static files and the logger ("app", "app.access")
    # are the package's, not this module's.
    app = Flask("app", instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead: long forms must not expire
        WTF_I18N_ENABLED=False,  # the forms carry WTForms' French messages (app.forms)
        RATELIMIT_HEADERS_ENABLED=True,
    )
    if settings.trusted_proxies:
        # The client's address and scheme as the trusted proxies saw them: without this, every
        # request behind nginx comes from 127.0.0.1 (one rate-limit bucket for everybody, the
        # proxy's IP in the evidence files). Werkzeug takes the n-th address from the right,
        # so a client prepending forged addresses gains nothing.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.json = _JsonProvider(app)
    app.logger.setLevel(logging.INFO)

    # Ids are 32-bit in the schema: a larger number in a URL is a plain 404, never a DB error.
    app.url_map.converters["int"] = _IdConverter
    _wire_runtime(app, settings)
    _wire_queue(app, settings)
    _configure_rate_limits(app, settings)
    csrf.init_app(app)
    limiter.init_app(app)
    _register_blueprints(app)
    _register_template_helpers(app)

    register_error_handlers(app)
    _register_security_headers(
        app,
        https=settings.base_url.startswith("https://"),
        logo_origin=settings.vendor.branding.logo_origin,
    )
    if settings.access_log:
        register_access_log(app)

    register_commands(app)
    return app


def _wire_runtime(app: Flask, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    # Every mail leaves dressed in the vendor's letterhead (name in the subject, HTML part,
    # Reply-To its support address): a mail that does not say who sends it looks like phishing.
    layout = VendorMailLayout(settings.vendor, settings.base_url)
    transport: Mailer = (
        SmtpMailer(settings.smtp_url, settings.mail_from, layout=layout)
        if settings.smtp_url
        else OutboxMailer(settings.outbox_dir, settings.mail_from, layout=layout)
    )
    # Every mail is an outbox row delivered by a job (inline in the tests, the same path);
    # the session factory is read at each send, the tests replace the runtime's.
    rt = Runtime(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        store=build_store(settings),
        mailer=QueuedMailer(lambda: rt.session_factory),
        transport=transport,
    )
    app.extensions["paraphe"] = rt

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()  # rolls back whatever the view did not commit


def _wire_queue(app: Flask, settings: Settings) -> None:
    """Point the jobs at the settings' broker and let them run with this application's
    runtime (read when a job runs: the tests swap the runtime's session factory)."""
    queue_broker.configure(settings.queue_url, settings.queue_name)
    job_run_recording.install()  # every run of every job into job_runs (the admins' page)

    def runtime_of_the_job() -> Runtime:
        # Inline, a job runs inside the request or command that enqueued it: that
        # application's runtime, even when a process holds several applications (the tests).
        owner = current_app if has_app_context() else app
        rt: Runtime = owner.extensions["paraphe"]
        return rt

    queue_context.bind(runtime_of_the_job)
    # Events committed by any feature are fanned out to the webhooks at once; the low
    # `events` package only knows it has something to call.
    outbox.install(webhook_tasks.request_dispatch)


def _configure_rate_limits(app: Flask, settings: Settings) -> None:
    """Where the limits count: in storage shared by every server process (the database or
    Redis), unless memory:// was asked for a single process."""
    uri = settings.ratelimit_storage_uri
    if uri == RATELIMIT_DATABASE:
        uri = storage_uri(app.extensions["paraphe"].engine)
    app.config.update(
        RATELIMIT_STORAGE_URI=uri,
        # Two instances sharing one Redis (or a test run after another) never share counters.
        RATELIMIT_KEY_PREFIX="paraphe-"
        + hashlib.sha256(settings.database_url.encode()).hexdigest()[:12],
    )


def _register_blueprints(app: Flask) -> None:

    for blueprint in (
        home,
        branding_views,
        auth_views,
        client_views,
        quote_views,
        contract_views,
        signing_views,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(overview_views)  # the client and quote pages, above the features
    app.register_blueprint(cgv_views)
    app.register_blueprint(restitution_views)
    app.register_blueprint(client_space_views)  # the client's own space, its own sessions
    app.register_blueprint(api_docs)
    app.register_blueprint(auth_admin)
    app.register_blueprint(invoice_views)

    app.register_blueprint(requests_bp)
    app.register_blueprint(job_run_views)  # failed jobs, beside the stuck seals
    app.register_blueprint(health_views)  # /sante, for load balancers and monitoring
    app.register_blueprint(sending_bp)
    app.register_blueprint(verify_bp)
    csrf.exempt(signatures_api)
    app.register_blueprint(signatures_api)
    for api in (archive_api, terms_api, invoices_api):
        csrf.exempt(api)  # bearer tokens, no cookies: CSRF does not apply
        app.register_blueprint(api)

    app.register_blueprint(clause_views)

    app.register_blueprint(password_views)
    app.register_blueprint(users_admin)

    # bearer tokens, no cookies: CSRF does not apply
    for write_api in (quotes_api, clients_api, contracts_api):
        csrf.exempt(write_api)
        app.register_blueprint(write_api)
    csrf.exempt(webhooks_api)
    app.register_blueprint(webhooks_api)
    app.register_blueprint(webhook_views)


def _register_template_helpers(app: Flask) -> None:

    # The page filters, all from the one French formatting module and the one label table.
    app.jinja_env.filters.update(
        amount=french.format_amount,
        amount_ht=french.format_amount_excl_vat,
        amount_ttc=french.format_amount_incl_vat,
        number=french.format_decimal,
        percent=french.format_percent,
        quantity=french.format_quantity,
        days=french.format_days,
        plural=french.plural,
        date_fr=french.format_date,
        month_fr=french.format_month,
        datetime_fr=french.format_datetime,
        de=french.de,
        article=french.article_reference,
        siren=french.grouped_siren,
        label=label,
    )

    @app.context_processor
    def _inject() -> dict[str, object]:
        vendor = app.extensions["paraphe"].settings.vendor
        return {
            "current_user": current_user(),
            "Permission": Permission,
            "can": can,
            # Every page a signer or client sees carries the vendor's name, logo and support
            # address (base.html).
            "vendor": vendor,
            "vendor_logo": vendor.branding.logo_url or url_for("branding.logo"),
            "workers_stopped": _workers_stopped,
        }


def _workers_stopped() -> heartbeats.Liveness | None:
    """For base.html's warning to the staff: the liveness of the workers when none is alive
    (every background job waits: « en cours » would otherwise show forever with no reason),
    None when one is, or when jobs run inline. Read in the request's session, already open
    (on SQLite a second one would wait for its write lock); never fails the page it is on,
    an error page included."""
    if queue_broker.is_inline():
        return None
    try:
        liveness = heartbeats.liveness(db_session(), utcnow())
    except SQLAlchemyError:
        return None
    return liveness if liveness.stopped else None


def _register_security_headers(app: Flask, *, https: bool, logo_origin: str | None) -> None:
    # A logo configured by URL is the one image allowed from elsewhere.
    images = f"'self' data: {logo_origin}" if logo_origin else "'self' data:"

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; "
            "frame-src 'self'; object-src 'self'; frame-ancestors 'self'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Signing links carry their token in the URL: never leak it through Referer.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if https:
            # Served over https (PARAPHE_BASE_URL): browsers must never fall back to http, where
            # the session cookie (Secure, so not sent there) and the signing links would leak.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
