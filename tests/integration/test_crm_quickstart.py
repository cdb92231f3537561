"""The CRM quick start (docs/crm-quickstart.md) run verbatim, and with it the whole signing
journey driven only through the API and a webhook: its ```sh blocks run in bash against
`paraphe serve` and `paraphe worker`; the signer signs through the link mailed to her (the
pages a browser sees); a loopback receiver gets `signature_request.completed`, checked with
`standardwebhooks`; the signed PDF downloaded by the last block is the sealed document."""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from flask import Flask
from standardwebhooks import Webhook

from app.auth.models import Scope
from app.config import Settings
from app.pki import trust_roots
from signing import verify_pdf
from tests.factories import make_product, make_token, publish_short_cgv
from tests.integration.http_journey import Browser, invitation_link, sign
from tests.integration.production_server import serve
from tests.integration.webhook_receiver import running_receiver
from tests.integration.worker_process import (
    WORKER_PROCESS_MARKS,
    queued_settings,
    running_worker,
    wait_until,
)

pytestmark = WORKER_PROCESS_MARKS

DOC = Path(__file__).resolve().parents[2] / "docs" / "crm-quickstart.md"
_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_ASSIGNED = re.compile(r"^([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def sh_blocks() -> list[str]:
    return _BLOCK.findall(DOC.read_text(encoding="utf-8"))


class Shell:
    """The reader's terminal: each block runs in bash (`set -euo pipefail`, so a failing curl
    fails the test), and the variables a block assigns are there for the next ones."""

    def __init__(self, env: dict[str, str], cwd: Path, names: set[str]) -> None:
        self.env, self.cwd, self.names = env, cwd, sorted(names)
        self.state = cwd / "variables.sh"
        self.state.write_text("")

    def run(self, block: str) -> str:
        state = shlex.quote(str(self.state))
        keep = "".join(f'printf "%s=%q\\n" {n} "${{{n}:-}}" >> {state}\n' for n in self.names)
        script = f"set -euo pipefail\nsource {state}\n{block}\n: > {state}\n{keep}"
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (
            f"{block}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        return done.stdout

    def variable(self, name: str) -> str:
        for line in self.state.read_text().splitlines():
            key, _, value = line.partition("=")
            if key == name:
                return value
        raise KeyError(name)


def test_the_quick_start_runs_as_written(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    blocks = sh_blocks()
    assert len(blocks) == 8  # the lookup by SIREN came after the client's creation
    download = next(i for i, b in enumerate(blocks) if "signed_document" in b)
    queued = replace(queued_settings("sqlite", settings, tmp_path), webhooks_allow_private=True)
    app = make_app(queued)
    publish_short_cgv(app)
    make_product(app, code="PREMIUM")
    with (
        running_receiver() as receiver,
        running_worker(queued),
        contextmanager(serve)(queued) as (base, _server),
    ):
        env = {
            "PATH": "/usr/bin:/bin",
            "PARAPHE_URL": base,
            "PARAPHE_TOKEN": make_token(app, Scope.WRITE, Scope.READ),
            "PARAPHE_ADMIN_TOKEN": make_token(app, Scope.ADMIN),
            "WEBHOOK_URL": receiver.url,
        }
        work = tmp_path / "crm"
        work.mkdir()
        names = set(_ASSIGNED.findall("\n".join(blocks)))
        shell = Shell(env, work, names)
        for block in blocks[:download]:
            shell.run(block)
        assert shell.variable("WEBHOOK_SECRET").startswith("whsec_")

        # The signer signs through her emailed link, as her browser would.
        link = invitation_link(queued.outbox_dir, "zoe@example.fr", seconds=60)
        sign(Browser(base), queued.outbox_dir, link, "zoe@example.fr")

        wait_until(lambda: len(receiver.received) >= 1, queued, seconds=120)
        post = receiver.received[0]
        event = Webhook(shell.variable("WEBHOOK_SECRET")).verify(post.body, post.headers)
        assert event["type"] == "signature_request.completed"
        assert str(event["data"]["id"]) == shell.variable("REQUEST_ID")

        for block in blocks[download:]:
            shell.run(block)
        pdf = (work / "contrat-signe.pdf").read_bytes()
        assert hashlib.sha256(pdf).hexdigest() == event["data"]["signed_document"]["sha256"]
        report = verify_pdf(pdf, trust_roots=trust_roots(queued))
        assert report.signed and report.all_intact_and_valid
        # Run again, the client block is a replay (its Idempotency-Key): the same client.
        client_id = shell.variable("CLIENT_ID")
        shell.run(blocks[1])
        assert shell.variable("CLIENT_ID") == client_id
