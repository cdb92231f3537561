"""Detached CMS seals: valid with the right root and bytes, and readable by OpenSSL."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

from signing import DevPki, SealKey, seal_detached, verify_detached

MANIFEST = b'{"format": "paraphe-restitution/1", "files": []}\n'


def test_seal_validates_and_detects_changes(
    seal_key: SealKey, dev_pki: DevPki, now: datetime, tmp_path: Path
) -> None:
    seal = seal_detached(MANIFEST, seal_key, now)
    report = verify_detached(MANIFEST, seal, [dev_pki.root_cert_pem])
    assert report.ok and report.problem is None
    assert report.signer_common_name == seal_key.subject_common_name

    tampered = verify_detached(MANIFEST.replace(b"[]", b"[1]"), seal, [dev_pki.root_cert_pem])
    assert not tampered.intact and not tampered.ok and tampered.problem

    untrusted = verify_detached(MANIFEST, seal, [])
    assert untrusted.intact and untrusted.valid and not untrusted.trusted

    garbage = verify_detached(MANIFEST, b"not a seal", [dev_pki.root_cert_pem])
    assert not garbage.ok and garbage.problem

    # Independent check with a standard tool.
    (tmp_path / "manifest.json").write_bytes(MANIFEST)
    (tmp_path / "manifest.json.p7s").write_bytes(seal)
    (tmp_path / "root.pem").write_bytes(dev_pki.root_cert_pem)
    result = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "manifest.json.p7s"),
            "-content",
            str(tmp_path / "manifest.json"),
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-purpose",
            "any",
            "-attime",  # at the seal's time, the tests' clock (.ci/timetravel moves it)
            str(int(now.timestamp())),
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_file_is_sealed_like_its_bytes(
    seal_key: SealKey, dev_pki: DevPki, now: datetime, tmp_path: Path
) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(MANIFEST * 5000)  # several of pyHanko's read chunks
    with path.open("rb") as fh:
        seal = seal_detached(fh, seal_key, now)
    assert verify_detached(MANIFEST * 5000, seal, [dev_pki.root_cert_pem]).ok
    assert not verify_detached(MANIFEST * 4999, seal, [dev_pki.root_cert_pem]).intact
