"""Pure decisions of the webhooks: the retry schedule, which addresses a delivery may reach,
which URLs an endpoint may have, the secrets and the body sent. No I/O, no clock."""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from app.messages import msg

RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
"""The wait after the 1st, 2nd… failed attempt (the schedule the Standard Webhooks reference
implementation uses): 8 attempts over 27 h 35 min, so a receiver down for a day still gets
every event. After the last one the delivery fails and the endpoint is marked failing."""

ATTEMPT_LEASE = timedelta(minutes=2)
"""How long an attempt owns its delivery: longer than the 10 s timeout and a slow read. A
worker killed mid-attempt leaves the delivery to the sweep once the lease is over."""

TIMEOUT_S = 10.0
RESPONSE_CAP = 64 * 1024  # bytes read from an answer at most
EXCERPT_CAP = 1024  # bytes of it kept in the log
SECRET_GRACE = timedelta(hours=24)
"""After a rotation, deliveries carry a signature with the previous secret too, this long."""


def next_delay(failures: int, scale: float = 1.0) -> timedelta | None:
    """The wait before the next attempt after `failures` failed ones; None: give up. `scale`
    shortens the schedule for the tests (settings.webhooks_retry_scale, 1 in production)."""
    if failures < 1 or failures > len(RETRY_SCHEDULE):
        return None
    return RETRY_SCHEDULE[failures - 1] * scale


def new_secret() -> str:
    """A secret as Standard Webhooks writes it: whsec_ then 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Why a delivery may not connect to `address` (an IP), or None. Loopback, private,
    link-local (cloud metadata at 169.254.169.254), shared, reserved, multicast and
    unspecified addresses are the instance's own network: refused unless allowed."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_private:
        return None
    if ip.is_unspecified:  # 0.0.0.0 or ::, which Linux connects to the host itself
        return f"adresse réservée refusée ({ip})"
    if ip.is_loopback:
        return f"adresse de bouclage refusée ({ip})"
    if ip.is_link_local:
        return f"adresse lien-local refusée ({ip})"
    if ip.is_private:
        return f"adresse privée refusée ({ip})"
    if ip.is_multicast or ip.is_reserved or not ip.is_global:
        return f"adresse réservée refusée ({ip})"
    return None


def url_problem(url: str, *, require_https: bool) -> str | None:
    """What is wrong with an endpoint URL, in French, or None."""
    if len(url) > 500:
        return "500 caractères au plus."
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        return msg("Une adresse ne contient ni espace ni caractère de contrôle.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return msg("Adresse invalide (port ?).")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return msg("Indiquez une adresse complète, commençant par https://.")
    if require_https and parts.scheme != "https":
        return msg("En production, l'adresse doit commencer par https://.")
    if parts.username or parts.password:
        return msg("L'adresse ne doit pas contenir d'identifiants.")
    if port == 0:
        return msg("Adresse invalide (port 0).")
    return None


def absolute_links(value: Any, base_url: str) -> Any:
    """The payload as sent: every relative API link under `links` prefixed with the
    instance's public address (events store paths, so a new address changes no event)."""
    if isinstance(value, dict):
        return {
            k: (
                {name: base_url + path for name, path in v.items()}
                if k == "links" and isinstance(v, dict)
                else absolute_links(v, base_url)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [absolute_links(v, base_url) for v in value]
    return value


def body(event_type: str, timestamp: str, data: dict[str, Any], base_url: str) -> bytes:
    """The JSON body: the Standard Webhooks envelope (type, timestamp, data)."""
    envelope = {"type": event_type, "timestamp": timestamp, "data": absolute_links(data, base_url)}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def excerpt(raw: bytes) -> str:
    """The start of an answer, as text a page can show and any database can store."""
    text = raw[:EXCERPT_CAP].decode("utf-8", errors="replace")
    return text.replace("\x00", "\ufffd")
