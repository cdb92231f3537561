"""A quote's commercial terms (app/quotes/commercial_terms.py): presets, checks, the
setup-fee schedule as typed, and the French sentences printed on the quote and contract."""

from __future__ import annotations

from decimal import Decimal as D

from app.quotes.commercial_terms import (
    BillingPeriod,
    CommercialTerms,
    CommitmentPlan,
    PaymentMethod,
    SetupInstalment,
    describe_terms,
    format_schedule,
    parse_schedule,
    preset_terms,
    terms_problems,
    with_preset,
)


def test_presets_and_terms_checks() -> None:
    monthly = preset_terms(CommitmentPlan.MONTHLY)
    assert (monthly.commitment_months, monthly.billing_period, monthly.payment_method) == (
        1,
        BillingPeriod.MONTHLY,
        PaymentMethod.DIRECT_DEBIT,
    )
    annual = preset_terms(CommitmentPlan.ANNUAL)
    assert (annual.commitment_months, annual.billing_period, annual.payment_method) == (
        12,
        BillingPeriod.ANNUAL,
        PaymentMethod.TRANSFER,
    )
    assert terms_problems(monthly) == {} and terms_problems(annual) == {}
    assert "commitment_months" in terms_problems(CommercialTerms(commitment_months=0))
    assert "billing_period" in terms_problems(CommercialTerms(commitment_months=18))
    assert "payment_terms_days" in terms_problems(CommercialTerms(payment_terms_days=61))
    assert "notice_months" in terms_problems(CommercialTerms(notice_months=13))
    bad_sum = (SetupInstalment(D("50"), "avant"), SetupInstalment(D("40"), "après"))
    assert terms_problems(CommercialTerms(setup_schedule=bad_sum)) == {
        "setup_schedule": "Les échéances des frais de mise en service font 100 %."
    }
    no_label = (SetupInstalment(D("100"), " "),)
    assert "setup_schedule" in terms_problems(CommercialTerms(setup_schedule=no_label))


def test_schedule_round_trips_and_terms_read_in_french() -> None:
    schedule = parse_schedule("50 % avant la mise en service; 50% après la mise en service")
    assert schedule == (
        SetupInstalment(D("50"), "avant la mise en service"),
        SetupInstalment(D("50"), "après la mise en service"),
    )
    assert parse_schedule(format_schedule(schedule)) == schedule
    assert parse_schedule("moitié avant") is None
    text = " ".join(describe_terms(preset_terms(CommitmentPlan.MONTHLY)))
    assert "Engagement initial de 1\u00a0mois" in text
    assert "périodicité mensuelle" in text and "prélèvement SEPA" in text
    assert "Factures payables à réception." in text
    assert "au moins 1\u00a0mois avant le terme" in text
    assert "50\u00a0% avant la mise en service" in text
    no_renewal = describe_terms(CommercialTerms(tacit_renewal=False))
    assert any("sans reconduction tacite" in s for s in no_renewal)


def test_a_preset_decides_duration_period_and_method_custom_keeps_what_was_typed() -> None:
    typed = CommercialTerms(
        commitment_months=24,
        billing_period=BillingPeriod.ANNUAL,
        payment_method=PaymentMethod.TRANSFER,
        payment_terms_days=45,
        tacit_renewal=False,
        notice_months=2,
    )
    monthly = with_preset(typed, CommitmentPlan.MONTHLY)
    assert (monthly.commitment_months, monthly.billing_period, monthly.payment_method) == (
        1,
        BillingPeriod.MONTHLY,
        PaymentMethod.DIRECT_DEBIT,
    )
    # what the preset does not decide stays as typed
    assert (monthly.payment_terms_days, monthly.tacit_renewal, monthly.notice_months) == (
        45,
        False,
        2,
    )
    assert with_preset(typed, CommitmentPlan.ANNUAL).commitment_months == 12
    assert with_preset(typed, CommitmentPlan.CUSTOM) == typed
