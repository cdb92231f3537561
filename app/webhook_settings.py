"""The webhook delivery settings (PARAPHE_WEBHOOKS_*), checked with the rest of
`app.config.Settings` at start; apart so that config.py stays readable. What they drive is in
app/webhooks/."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.env_flags import read_flag


@dataclass(frozen=True)
class WebhookDelivery:
    allow_private: bool = False
    retry_scale: float = 1.0


def webhook_delivery(env: Mapping[str, str], problems: list[str]) -> WebhookDelivery:
    """PARAPHE_WEBHOOKS_ALLOW_PRIVATE (0 unless set) and PARAPHE_WEBHOOKS_RETRY_SCALE (1)."""
    allow_private = read_flag(
        env, "PARAPHE_WEBHOOKS_ALLOW_PRIVATE", "0", problems, expected="doit valoir 0 ou 1"
    )
    return WebhookDelivery(
        allow_private=allow_private,
        retry_scale=_retry_scale(env.get("PARAPHE_WEBHOOKS_RETRY_SCALE", "1"), problems),
    )


def webhook_production_problems(delivery: WebhookDelivery) -> list[str]:
    """What production refuses of these settings: a shortened retry schedule."""
    if delivery.retry_scale == 1.0:
        return []
    return [
        "PARAPHE_WEBHOOKS_RETRY_SCALE sert aux tests : en production, le calendrier "
        "des nouvelles tentatives des webhooks n'est pas raccourci (valeur 1)"
    ]


def _retry_scale(raw: str, problems: list[str]) -> float:
    """PARAPHE_WEBHOOKS_RETRY_SCALE: a number in ]0, 1] (1 unless set)."""
    try:
        scale = float(raw.strip().replace(",", "."))
    except ValueError:
        scale = -1.0
    if not 0 < scale <= 1:
        problems.append("PARAPHE_WEBHOOKS_RETRY_SCALE doit être un nombre de 0 (exclu) à 1")
        return 1.0
    return scale
