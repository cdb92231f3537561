"""The object-storage settings (PARAPHE_STORAGE_URL, PARAPHE_S3_*), checked with the rest of
`app.config.Settings` at start; apart so that config.py stays readable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from storage import S3Location

_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")


def object_storage(
    env: Mapping[str, str], problems: list[str]
) -> tuple[str | None, str | None, str | None]:
    """PARAPHE_STORAGE_URL (s3://bucket[/prefix]), PARAPHE_S3_ENDPOINT_URL and
    PARAPHE_S3_REGION, checked for form only: reaching the bucket is the first write's job
    (a network call at start would make every command wait for it)."""
    url = (env.get("PARAPHE_STORAGE_URL") or "").strip() or None
    if url is not None:
        try:
            S3Location.parse(url)
        except ValueError:
            problems.append(
                "PARAPHE_STORAGE_URL doit être de la forme s3://compartiment ou "
                "s3://compartiment/préfixe (sans identifiants : ils viennent des variables "
                "AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY)"
            )
    endpoint = (env.get("PARAPHE_S3_ENDPOINT_URL") or "").strip() or None
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.username:
            problems.append(
                "PARAPHE_S3_ENDPOINT_URL doit être une URL http(s) sans identifiants, "
                "ex. https://s3.fr-par.scw.cloud"
            )
    region = (env.get("PARAPHE_S3_REGION") or "").strip() or None
    if region is not None and not _REGION.fullmatch(region):
        problems.append("PARAPHE_S3_REGION : un nom de région, ex. eu-west-3 ou fr-par")
    if url is None and (endpoint or region):
        problems.append(
            "PARAPHE_S3_ENDPOINT_URL et PARAPHE_S3_REGION ne servent qu'avec "
            "PARAPHE_STORAGE_URL=s3://… (sinon les documents restent dans PARAPHE_STORAGE_DIR)"
        )
    return url, endpoint, region
