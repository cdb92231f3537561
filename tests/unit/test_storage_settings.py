"""PARAPHE_STORAGE_URL and the S3 settings: checked at start, the store built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError
from app.storage_config import build_store
from storage import FilesystemBlobStore, S3BlobStore, S3Location
from tests.unit.instance_settings import settings_in


def test_the_filesystem_store_stays_the_default(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)

    assert settings.storage_url is None
    store = build_store(settings)
    assert isinstance(store, FilesystemBlobStore)
    assert store.root == tmp_path / "blobs"


def test_an_s3_url_builds_the_s3_store(tmp_path: Path) -> None:
    settings = settings_in(
        tmp_path,
        PARAPHE_STORAGE_URL="s3://archives-paraphe/prod/blobs",
        PARAPHE_S3_ENDPOINT_URL="https://s3.fr-par.scw.cloud",
        PARAPHE_S3_REGION="fr-par",
    )

    store = build_store(settings)
    assert isinstance(store, S3BlobStore)
    assert store.location == S3Location("archives-paraphe", "prod/blobs/")
    assert store._client.meta.endpoint_url == "https://s3.fr-par.scw.cloud"
    assert store._client.meta.region_name == "fr-par"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PARAPHE_STORAGE_URL": "https://archives/p"}, "PARAPHE_STORAGE_URL doit être"),
        ({"PARAPHE_STORAGE_URL": "s3:///p"}, "PARAPHE_STORAGE_URL doit être"),
        (
            {"PARAPHE_STORAGE_URL": "s3://b", "PARAPHE_S3_ENDPOINT_URL": "ftp://minio"},
            "PARAPHE_S3_ENDPOINT_URL doit être",
        ),
        (
            {"PARAPHE_STORAGE_URL": "s3://b", "PARAPHE_S3_ENDPOINT_URL": "https://k:s@minio"},
            "sans identifiants",
        ),
        ({"PARAPHE_STORAGE_URL": "s3://b", "PARAPHE_S3_REGION": "Paris !"}, "PARAPHE_S3_REGION"),
        ({"PARAPHE_S3_REGION": "eu-west-3"}, "ne servent qu'avec PARAPHE_STORAGE_URL"),
    ],
)
def test_storage_settings_are_checked(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_in(tmp_path, **env)


def test_aws_credentials_never_reach_the_settings(tmp_path: Path) -> None:
    settings = settings_in(
        tmp_path,
        PARAPHE_STORAGE_URL="s3://archives",
        AWS_SECRET_ACCESS_KEY="tres-secret-0123456789",
    )

    assert "tres-secret" not in repr(settings)
    assert "tres-secret" not in str(vars(settings))
