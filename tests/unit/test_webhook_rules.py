"""The webhooks' pure rules: which addresses a delivery may reach, which URLs an endpoint may
have, the retry schedule, the body's links and the logged excerpt."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.webhooks import rules


@pytest.mark.parametrize(
    ("address", "word"),
    [
        ("127.0.0.1", "bouclage"),
        ("::1", "bouclage"),
        ("10.0.0.1", "privée"),
        ("192.168.1.20", "privée"),
        ("172.16.0.5", "privée"),
        ("169.254.169.254", "lien-local"),
        ("fe80::1", "lien-local"),
        ("100.64.0.1", "réservée"),  # shared address space (carrier-grade NAT)
        ("0.0.0.0", "réservée"),  # noqa: S104 - an address refused, not a bind
        ("224.0.0.1", "réservée"),
        ("::ffff:10.0.0.1", "privée"),  # an IPv4-mapped IPv6 address is its IPv4 one
    ],
)
def test_the_instances_own_networks_are_refused(address: str, word: str) -> None:
    refusal = rules.address_refusal(address, allow_private=False)
    assert refusal is not None and word in refusal
    assert rules.address_refusal(address, allow_private=True) is None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert rules.address_refusal(address, allow_private=False) is None


@pytest.mark.parametrize(
    ("url", "require_https", "problem"),
    [
        ("https://crm.example.com/hooks", True, None),
        ("http://crm.example.com/hooks", False, None),
        ("http://crm.example.com/hooks", True, "https://"),
        ("ftp://crm.example.com/", False, "https://"),
        ("https://user:pw@crm.example.com/", False, "identifiants"),
        ("https://crm.example.com:99999/", False, "port"),
        ("https://crm.example.com/a b", False, "espace"),
        ("https:///nohost", False, "https://"),
    ],
)
def test_endpoint_urls(url: str, require_https: bool, problem: str | None) -> None:
    found = rules.url_problem(url, require_https=require_https)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_the_retry_schedule_spans_more_than_a_day_then_gives_up() -> None:
    assert rules.next_delay(1) == timedelta(seconds=5)
    assert rules.next_delay(len(rules.RETRY_SCHEDULE)) == timedelta(hours=10)
    assert rules.next_delay(len(rules.RETRY_SCHEDULE) + 1) is None
    assert sum(rules.RETRY_SCHEDULE, timedelta()) > timedelta(hours=24)


def test_the_body_is_the_standard_envelope_with_absolute_links() -> None:
    data = {"id": 3, "links": {"api": "/api/v1/quotes/3"}, "quote": {"links": {"api": "/x"}}}
    body = json.loads(
        rules.body("quote.created", "2026-01-02T03:04:05+00:00", data, "https://p.fr")
    )
    assert body == {
        "type": "quote.created",
        "timestamp": "2026-01-02T03:04:05+00:00",
        "data": {
            "id": 3,
            "links": {"api": "https://p.fr/api/v1/quotes/3"},
            "quote": {"links": {"api": "https://p.fr/x"}},
        },
    }


def test_the_logged_excerpt_is_capped_and_storable() -> None:
    assert len(rules.excerpt(b"a" * 5000)) == rules.EXCERPT_CAP
    assert rules.excerpt(b"ok\x00\xff") == "ok\ufffd\ufffd"


def test_secrets_are_standard_webhooks_secrets() -> None:
    from standardwebhooks import Webhook

    secret = rules.new_secret()
    assert secret.startswith("whsec_") and secret != rules.new_secret()
    Webhook(secret)  # accepted by the reference library
