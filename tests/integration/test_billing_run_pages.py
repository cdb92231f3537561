"""The period's invoices issued from the plans page: the preview (read only, the amounts the
run invoices), the button that asks for one run done by a job, the run's page and its polled
state, bad periods refused on the field, who may do it, and each plan billed once for a period
whatever the clicks, tabs and retries."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.auth.models import Role
from app.db import transaction
from app.invoices import billing_runs, issuing, jobs
from app.invoices import tasks as invoice_tasks
from app.invoices.models import BillingFrequency, BillingPlan, BillingRun, BillingRunStatus, Invoice
from app.invoices.pdfs import Issued
from app.invoices.rules import Period, months_later
from app.pricing.lines import LineInput
from tests.factories import count, login_as, plan_of, publish_short_cgv, runtime, session_of
from tests.factories.archive import terminate_in_archive
from tests.factories.clock import REFERENCE_NOW
from tests.factories.signing import signed_contract
from tests.integration.fixtures_security import field_errors, logged_in_csrf
from tests.integration.helpers import fire_together, post_form

NOW = REFERENCE_NOW
PERIOD = Period(NOW.year, NOW.month)  # the business month of NOW: the page's default
ISSUE_URL = "/factures/plans/facturations"
MONTHLY = LineInput("Abonnement mensuel", Decimal("1"), Decimal("100"), Decimal("20"))


def _plan(app: Flask, start: date, frequency: BillingFrequency = BillingFrequency.MONTHLY) -> int:
    contract_id = signed_contract(app, publish=False)
    with transaction(runtime(app).session_factory) as session:
        return plan_of(
            session, contract_id, start_date=start, now=NOW, frequency=frequency, lines=[MONTHLY]
        ).id


def _plans(app: Flask) -> dict[str, int]:
    """One plan of each outcome for PERIOD: to issue, nothing due (an annual plan starting
    two months later), already billed, refused (its client terminated the month before)."""
    publish_short_cgv(app)
    plans = {
        "to_issue": _plan(app, PERIOD.first_day),
        "later": _plan(app, months_later(PERIOD, 2).first_day, BillingFrequency.ANNUAL),
        "billed": _plan(app, PERIOD.first_day),
        "terminated": _plan(app, months_later(PERIOD, -1).first_day),
    }
    with transaction(runtime(app).session_factory) as session:
        billed = session.get_one(BillingPlan, plans["billed"])
        issuing.issue_period_invoice(session, plan=billed, period=str(PERIOD), now=NOW, actor="t")
        terminated = session.get_one(BillingPlan, plans["terminated"]).client_id
    terminate_in_archive(app, terminated, on=PERIOD.first_day - timedelta(days=1), now=NOW)
    return plans


def _row(html: str, plan_id: int) -> str:
    found = re.search(
        rf'<tr data-outcome="[a-z_]+"><td><a href="/factures/plans/{plan_id}">.*?</tr>', html, re.S
    )
    assert found, plan_id
    return found.group(0)


def _issue(browser: FlaskClient, period: str) -> TestResponse:
    """The button « Émettre … » posted for ``period`` (the token from the plans page)."""
    return post_form(browser, "/factures/plans", {"period": period}, url=ISSUE_URL)


@time_machine.travel(NOW, tick=False)
def test_the_preview_says_what_a_run_would_do_and_writes_nothing(app: Flask) -> None:
    plans = _plans(app)
    billing = login_as(app, Role.SALES)
    before = count(app, Invoice), count(app, BillingRun)
    page = billing.get("/factures/plans")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Factures de la période" in html and f'value="{PERIOD}"' in html  # the default
    assert "paraphe invoices run" not in html  # the CLI is the operators'; the page says how
    to_issue = _row(html, plans["to_issue"])
    # the headers say « Montant HT », « Montant TTC »: the cells do not repeat it
    assert '<th class="num">Montant HT</th><th class="num">Montant TTC</th>' in html
    assert '<td class="num">100,00\xa0€</td><td class="num">120,00\xa0€</td>' in to_issue, to_issue
    for row in re.findall(r"<tr data-outcome=.*?</tr>", html, re.S):
        assert "HT" not in row and "TTC" not in row, row
    assert "rien à facturer" in _row(html, plans["later"])
    billed_row = _row(html, plans["billed"])
    with session_of(app) as session:
        number, invoice_id = session.execute(
            select(Invoice.number, Invoice.id).where(Invoice.plan_id == plans["billed"])
        ).one()
    assert "déjà facturée" in billed_row and f'href="/factures/{invoice_id}">{number}' in billed_row
    refused = _row(html, plans["terminated"])
    assert "refusée" in refused and "commence après la résiliation" in refused, refused
    assert "Émettre la facture de janvier 2026" in html  # one to issue: no « les 1 factures »
    assert (count(app, Invoice), count(app, BillingRun)) == before  # a GET changes nothing

    # Two months later: the annual plan's first year is due then, with the monthly ones.
    later = billing.get(f"/factures/plans?period={months_later(PERIOD, 2)}").get_data(as_text=True)
    assert '<td class="num">100,00\xa0€</td>' in _row(later, plans["later"])
    assert "Émettre les 3 factures de mars 2026" in later
    # « de » elided before a month starting with a vowel: « d'avril », never « de avril »
    april = unescape(
        billing.get(f"/factures/plans?period={months_later(PERIOD, 3)}").get_data(as_text=True)
    )
    assert "Ce qu'émettrait la facturation d'avril 2026, plan par plan" in april
    assert "de avril" not in april
    assert (count(app, Invoice), count(app, BillingRun)) == before


@time_machine.travel(NOW, tick=False)
def test_the_button_issues_by_a_job_and_its_page_reports(app: Flask) -> None:
    plans = _plans(app)
    billing = login_as(app, Role.SALES)
    preview = billing.get("/factures/plans").get_data(as_text=True)
    asked = _issue(billing, str(PERIOD))
    assert asked.status_code == 302, asked.get_data(as_text=True)[:500]
    run_url = asked.headers["Location"]
    assert re.fullmatch(r"/factures/plans/facturations/\d+", run_url)

    # Inline, the job ran in the request: the page shows its report, nothing left to poll.
    page = billing.get(run_url).get_data(as_text=True)
    assert "terminé" in page and "Facturation de janvier 2026" in page
    assert "1\xa0facture émise" in page and "1\xa0plan déjà facturé" in page
    assert "1\xa0plan sans rien à facturer" in page and "1\xa0plan refusé" in page
    assert "commence après la résiliation" in page
    assert "data-url" not in page  # finished: the page does not poll
    with session_of(app) as session:
        issued = session.scalars(select(Invoice).where(Invoice.plan_id == plans["to_issue"])).one()
        # The amounts the preview showed are the invoice's; its PDF was enqueued, as the CLI does.
        assert (issued.total_excl_vat, issued.total_incl_vat) == (
            Decimal("100.00"),
            Decimal("120.00"),
        )
        assert '<td class="num">100,00\xa0€</td>' in _row(preview, plans["to_issue"])
        assert issued.document_id is not None and issued.period == str(PERIOD)
        run = session.scalars(select(BillingRun)).one()
        assert run.status is BillingRunStatus.DONE and run.issued_numbers == [issued.number]
    assert f'href="/factures/{issued.id}">{issued.number}</a>' in page
    plans_page = billing.get("/factures/plans").get_data(as_text=True)
    assert f'<a href="{run_url}">terminé</a>' in plans_page  # the period's latest run
    state = billing.get(f"{run_url}/etat")
    assert state.status_code == 200 and state.headers["Cache-Control"] == "no-store"
    assert state.json is not None and state.json["stage"] == "done"
    assert state.json["poll_after"] is None and issued.number in state.json["html"]

    # Asked again: a new run, which finds every plan billed.
    again = _issue(billing, str(PERIOD))
    assert again.status_code == 302
    text = billing.get(again.headers["Location"]).get_data(as_text=True)
    assert "0\xa0facture émise" in text and "2\xa0plans déjà facturés" in text
    assert count(app, Invoice) == 2  # the one billed before, and the run's


@time_machine.travel(NOW, tick=False)
def test_a_waiting_run_is_polled_then_a_retried_job_issues_once(app: Flask) -> None:
    publish_short_cgv(app)
    plan_id = _plan(app, PERIOD.first_day)
    billing = login_as(app, Role.SALES)
    with transaction(runtime(app).session_factory) as session:
        run, new = billing_runs.request_run(session, PERIOD, requested_by_id=None, now=NOW)
        run_id = run.id
    assert new
    waiting = billing.get(f"/factures/plans/facturations/{run_id}").get_data(as_text=True)
    assert (
        "en attente" in waiting and "billing-run.js" in waiting and "actualisez la page" in waiting
    )
    state = billing.get(f"/factures/plans/facturations/{run_id}/etat").json
    assert state is not None and state["stage"] == "queued" and state["poll_after"] == 2

    # Its job fails once the invoice is committed (the PDF hand-over breaks): the queue will
    # retry it, so the run waits again.
    def broken(_kind: Issued, _issued_id: int) -> None:
        raise ConnectionError("broker unreachable")

    collab = runtime(app).collaborators(NOW)
    with pytest.raises(ConnectionError):
        jobs.issue_requested_run(collab, run_id, on_issued=broken)
    with session_of(app) as session:
        assert session.get_one(BillingRun, run_id).status is BillingRunStatus.QUEUED
        assert session.scalars(select(Invoice.document_id)).one() is None

    # A click meanwhile joins that run (no second one) and enqueues its job again: run here
    # (inline), it bills nothing twice and hands over the PDF the failed attempt left.
    joined = _issue(billing, str(PERIOD))
    assert joined.headers["Location"] == f"/factures/plans/facturations/{run_id}"
    assert count(app, BillingRun) == 1 and count(app, Invoice, Invoice.plan_id == plan_id) == 1
    with session_of(app) as session:
        run = session.get_one(BillingRun, run_id)
        invoice = session.scalars(select(Invoice)).one()
        assert invoice.document_id is not None
        # The report names the invoice the failed attempt issued, as issued by the run.
        assert run.status is BillingRunStatus.DONE and run.issued_numbers == [invoice.number]
        assert run.already_billed == 0
    assert jobs.issue_requested_run(collab, run_id, on_issued=broken) is None  # finished
    report = billing.get(joined.headers["Location"]).get_data(as_text=True)
    assert "1\xa0facture émise." in report and invoice.number in report


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("period", ["2026-13", "", "décembre", "2026-1", "2026-01-05"])
def test_a_bad_period_is_refused_on_its_field_and_writes_nothing(app: Flask, period: str) -> None:
    billing = login_as(app, Role.SALES)
    posted = _issue(billing, period)
    assert posted.status_code == 422
    assert field_errors(posted.get_data(as_text=True))["period"] == [
        "Indiquez une période au format AAAA-MM (ex. 2026-12)."
    ]
    shown = billing.get("/factures/plans", query_string={"period": period})
    assert shown.status_code == 422 and "period" in field_errors(shown.get_data(as_text=True))
    assert count(app, BillingRun) == 0 and count(app, Invoice) == 0


def test_who_may_issue(app: Flask) -> None:
    """Issuing is ISSUE_INVOICES': a role without it (legal) is refused the button's POST and
    does not see the page; nothing is written."""
    legal = login_as(app, Role.LEGAL)
    page = legal.get("/factures/plans")
    assert page.status_code == 403
    token = logged_in_csrf(legal)
    refused = legal.post(ISSUE_URL, data={"csrf_token": token, "period": str(PERIOD)})
    assert refused.status_code == 403
    assert count(app, BillingRun) == 0
    for role in (Role.SALES, Role.ADMIN):  # both issue invoices: both see the form
        html = login_as(app, role).get("/factures/plans").get_data(as_text=True)
        assert 'id="period-form"' in html, role


@pytest.mark.committed_db  # twenty requests on their own connections
@time_machine.travel(NOW, tick=False)
def test_twenty_clicks_at_once_bill_each_plan_once(app: Flask) -> None:
    publish_short_cgv(app)
    plan_ids = [_plan(app, PERIOD.first_day) for _ in range(2)]
    # Twenty tabs of one session click « Émettre » together (a double click, two tabs…).
    answers = fire_together(app, login_as(app, Role.SALES), lambda tab: _issue(tab, str(PERIOD)))
    assert {answer.status_code for answer in answers} == {302}
    with session_of(app) as session:
        per_plan = session.execute(
            select(Invoice.plan_id, Invoice.period, func.count())
            .group_by(Invoice.plan_id, Invoice.period)
            .order_by(Invoice.plan_id)
        ).all()
        assert [tuple(row) for row in per_plan] == [(p, str(PERIOD), 1) for p in plan_ids]
        runs = session.scalars(select(BillingRun)).all()
        assert all(run.status is BillingRunStatus.DONE for run in runs)
        assert sum(len(run.issued_numbers) for run in runs) == len(plan_ids)


@time_machine.travel(NOW, tick=False)
def test_the_sweep_resumes_the_runs_whose_job_was_lost_and_only_those(app: Flask) -> None:
    """A run whose job never came (a broker flushed) or whose worker was killed mid-run is
    enqueued again by the periodic sweep; a run that just started or was just asked for is
    left to its own job."""
    publish_short_cgv(app)
    periods = [months_later(PERIOD, n) for n in range(4)]
    plan_id = _plan(app, PERIOD.first_day)
    asked = {
        # (period, asked minutes ago, started minutes ago or None)
        "lost": (periods[0], 10, None),
        "killed": (periods[1], 40, 31),
        "running": (periods[2], 6, 5),
        "just_asked": (periods[3], 1, None),
    }
    ids: dict[str, int] = {}
    with transaction(runtime(app).session_factory) as session:
        for name, (period, asked_ago, started_ago) in asked.items():
            run, _new = billing_runs.request_run(
                session, period, requested_by_id=None, now=NOW - timedelta(minutes=asked_ago)
            )
            if started_ago is not None:
                run.status = BillingRunStatus.RUNNING
                run.started_at = NOW - timedelta(minutes=started_ago)
            ids[name] = run.id
    collab = runtime(app).collaborators(NOW)
    assert jobs.stalled_runs(collab) == [ids["lost"], ids["killed"]]

    with app.app_context():
        invoice_tasks.resume_runs.run()  # its jobs run inline in the tests
    with session_of(app) as session:
        status = {name: session.get_one(BillingRun, i).status for name, i in ids.items()}
        billed = set(session.scalars(select(Invoice.period).where(Invoice.plan_id == plan_id)))
    assert status == {
        "lost": BillingRunStatus.DONE,
        "killed": BillingRunStatus.DONE,
        "running": BillingRunStatus.RUNNING,
        "just_asked": BillingRunStatus.QUEUED,
    }
    assert billed == {str(periods[0]), str(periods[1])}
    assert jobs.stalled_runs(collab) == []
    with app.app_context():
        invoice_tasks.resume_runs.run()  # nothing left to resume: nothing billed twice
    assert count(app, Invoice, Invoice.plan_id == plan_id) == 2
