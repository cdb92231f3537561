"""PARAPHE_QUEUE_URL, read and checked with the other settings (app.config)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

QUEUE_INLINE = "inline"
"""PARAPHE_QUEUE_URL value: no broker, each job runs where it is enqueued (Huey's immediate
mode, the same task code)."""

_BROKERS = {"sqlite", "postgresql", "postgres", "redis", "rediss"}


def queue_url_from(env: Mapping[str, str], instance_dir: Path, problems: list[str]) -> str:
    """The broker's URL: a SQLite file in the instance folder by default (one machine)."""
    queue_url = env.get("PARAPHE_QUEUE_URL", "").strip() or f"sqlite:///{instance_dir / 'queue.db'}"
    if queue_url != QUEUE_INLINE and urlsplit(queue_url).scheme.split("+")[0] not in _BROKERS:
        problems.append(
            "PARAPHE_QUEUE_URL doit valoir sqlite:///chemin (une machine, par défaut), "
            "postgresql://…, redis://hôte:port/n ou « inline » (chaque travail exécuté "
            "aussitôt par le processus qui le demande)"
        )
    return queue_url
