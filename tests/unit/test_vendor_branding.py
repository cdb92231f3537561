"""The vendor's identity settings (PARAPHE_VENDOR_LOGO, _COLOR, _SUPPORT_EMAIL): checked at
start, every problem reported at once, and served to the pages (logo, colour stylesheet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.branding import DEFAULT_LOGO, contrast_with_white
from app.config import ConfigError, Settings
from app.factory import create_app


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"PARAPHE_INSTANCE_DIR": str(tmp_path), **env})


def test_the_demo_identity_by_default(tmp_path: Path) -> None:
    branding = _settings(tmp_path).vendor.branding
    assert branding.logo_path == DEFAULT_LOGO and branding.logo_url is None
    assert branding.colour == "#1f4e8c" and branding.support_email == "support@editeur-demo.fr"
    assert contrast_with_white(branding.colour) >= 4.5


def test_a_logo_file_or_an_https_address(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    branding = _settings(tmp_path, PARAPHE_VENDOR_LOGO=str(logo)).vendor.branding
    assert branding.logo_path == logo and branding.logo_media_type == "image/png"
    remote = _settings(tmp_path, PARAPHE_VENDOR_LOGO="https://cdn.example.fr/l.svg")
    assert remote.vendor.branding.logo_url == "https://cdn.example.fr/l.svg"
    assert remote.vendor.branding.logo_origin == "https://cdn.example.fr"


def test_every_identity_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _settings(
            tmp_path,
            PARAPHE_VENDOR_LOGO=str(tmp_path / "absent.gif"),
            PARAPHE_VENDOR_COLOR="#ffdd00",  # yellow: white text on it is unreadable
            PARAPHE_VENDOR_SUPPORT_EMAIL="pas une adresse",
        )
    problems = "\n".join(info.value.problems)
    assert "PARAPHE_VENDOR_LOGO" in problems and "PARAPHE_VENDOR_SUPPORT_EMAIL" in problems
    assert "PARAPHE_VENDOR_COLOR : #ffdd00 est trop clair" in problems
    for env in ({"PARAPHE_VENDOR_COLOR": "bleu"}, {"PARAPHE_VENDOR_LOGO": "http://x.fr/l.png"}):
        with pytest.raises(ConfigError):
            _settings(tmp_path, **env)


def test_pages_load_the_logo_and_the_colour(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, PARAPHE_VENDOR_COLOR="#7A1F5C"))
    client = app.test_client()
    css = client.get("/identite/couleurs.css")
    assert css.mimetype == "text/css" and css.get_data(as_text=True).strip() == (
        ":root { --accent: #7a1f5c; }"
    )
    logo = client.get("/identite/logo")
    assert logo.mimetype == "image/svg+xml" and logo.data == DEFAULT_LOGO.read_bytes()
    assert logo.headers["Content-Security-Policy"].startswith("default-src 'none'")
    page = client.get("/connexion").get_data(as_text=True)
    assert 'href="/identite/couleurs.css"' in page and 'src="/identite/logo"' in page
    assert "Éditeur Démo SAS" in page and 'href="mailto:support@editeur-demo.fr"' in page


def test_a_remote_logo_is_allowed_by_the_pages_policy(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, PARAPHE_VENDOR_LOGO="https://cdn.example.fr/l.svg"))
    client = app.test_client()
    page = client.get("/connexion")
    assert 'src="https://cdn.example.fr/l.svg"' in page.get_data(as_text=True)
    assert "img-src 'self' data: https://cdn.example.fr;" in page.headers["Content-Security-Policy"]
    assert client.get("/identite/logo").status_code == 404
