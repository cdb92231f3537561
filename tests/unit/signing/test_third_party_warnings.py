"""A process that signs starts without warnings it cannot act on (the worker's log)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_signing_then_pyhanko_prints_no_warning() -> None:
    # A fresh interpreter: this test process imported pyHanko long ago, warnings and all.
    # `-W error` turns any warning at import into a failure with its text.
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            "import signing, pyhanko.sign.signers.pdf_cms, pyhanko.sign.validation",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
