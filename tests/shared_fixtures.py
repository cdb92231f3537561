"""Where the shared fixtures are: ``../shared`` next to the repository, as the guide lays out.

The real CGV texts are read from there, never copied into the repository. A checkout that
lives elsewhere (a CI clone, a worktree) can point ``PARAPHE_SHARED_DIR`` at the folder; the
usual machine location is the last resort, so that a clone in a scratch directory still finds
them. The first candidate that holds the CGV fixtures wins.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    candidates = [
        *([Path(os.environ["PARAPHE_SHARED_DIR"])] if os.environ.get("PARAPHE_SHARED_DIR") else []),
        REPO_ROOT.parent / "shared",
        Path("/work/shared"),
    ]
    for candidate in candidates:
        if (candidate / "fixtures" / "cgv").is_dir():
            return candidate
    return candidates[0]  # the expected place: a missing file then names it in the error


SHARED = _shared_dir()
CGV_DIR = SHARED / "fixtures" / "cgv"
CGV_FIXTURE = CGV_DIR / "dendreo-cgv-2.2.md"
