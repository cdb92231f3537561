"""Kept-alive connections to a receiver (issue 15): reused between POSTs to the same checked
address, never past the address check, nor once the receiver closed them, idle too long, or
with an answer cut at the cap."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.webhooks import rules, sending
from app.webhooks.models import AttemptOutcome
from tests.integration.webhook_receiver import Receiver, running_receiver

HEADERS = {"content-type": "application/json", "webhook-id": "evt_test"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(keep_alive=True) as running:
        yield running


def post(url: str, *, allow_private: bool = True) -> sending.SendResult:
    return sending.post(url, b"{}", HEADERS, allow_private=allow_private, require_https=False)


def test_posts_to_the_same_receiver_share_one_connection(receiver: Receiver) -> None:
    results = [post(receiver.url) for _ in range(5)]
    assert [r.outcome for r in results] == [AttemptOutcome.SUCCEEDED] * 5
    assert len(receiver.received) == 5
    assert receiver.connections == 1


def test_a_kept_connection_is_not_used_when_the_check_refuses_the_address(
    receiver: Receiver,
) -> None:
    assert post(receiver.url).outcome is AttemptOutcome.SUCCEEDED
    refused = post(receiver.url, allow_private=False)
    assert refused.outcome is AttemptOutcome.REFUSED
    assert refused.error == "adresse de bouclage refusée (127.0.0.1)"
    assert len(receiver.received) == 1


def test_a_name_resolved_to_another_address_gets_a_new_connection_there(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://hooks.example:{port}/hooks/paraphe"
    monkeypatch.setattr(sending, "resolve", lambda host, port: ["127.0.0.1"])
    assert post(url).outcome is AttemptOutcome.SUCCEEDED
    # Nothing listens on 127.0.0.2: reusing the connection kept to 127.0.0.1 would succeed.
    monkeypatch.setattr(sending, "resolve", lambda host, port: ["127.0.0.2"])
    moved = post(url)
    assert moved.outcome is AttemptOutcome.FAILED and moved.error == "connexion refusée"
    assert len(receiver.received) == 1


def test_a_connection_the_receiver_closed_is_replaced_without_a_failed_attempt(
    receiver: Receiver,
) -> None:
    assert post(receiver.url).outcome is AttemptOutcome.SUCCEEDED
    receiver.cut_connections()
    again = post(receiver.url)
    assert again.outcome is AttemptOutcome.SUCCEEDED, again.error
    assert receiver.connections == 2 and len(receiver.received) == 2


def test_a_connection_idle_too_long_is_not_reused(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sending, "KEEPALIVE_IDLE_S", 0.0)
    assert post(receiver.url).outcome is AttemptOutcome.SUCCEEDED
    assert post(receiver.url).outcome is AttemptOutcome.SUCCEEDED
    assert receiver.connections == 2


def test_an_answer_cut_at_the_cap_closes_the_connection(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules, "RESPONSE_CAP", 4)  # the receiver answers "réponse 200"
    first = post(receiver.url)
    assert first.outcome is AttemptOutcome.SUCCEEDED and first.excerpt == "rép"
    assert post(receiver.url).outcome is AttemptOutcome.SUCCEEDED
    assert receiver.connections == 2


def test_an_http_1_0_receiver_gets_one_connection_per_post() -> None:
    with running_receiver() as plain:
        assert post(plain.url).outcome is AttemptOutcome.SUCCEEDED
        assert post(plain.url).outcome is AttemptOutcome.SUCCEEDED
        assert plain.connections == 2
