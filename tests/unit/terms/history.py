"""A CGV history (minor, material, minor) and clients that accepted or were notified at
different dates, with the version that binds each client around every event.

Shared by the pure rules test and the database/API test so both check the same answers."""

from __future__ import annotations

from datetime import date

from app.terms.models import VersionKind

D = date.fromisoformat

# label → (kind, effective date)
VERSIONS: dict[str, tuple[VersionKind, date]] = {
    "1.0": (VersionKind.MINOR, D("2024-01-01")),
    "2.0": (VersionKind.MATERIAL, D("2024-06-01")),
    "2.1": (VersionKind.MINOR, D("2025-01-01")),
}

# client → {"accepted": [(label, date)], "notified": {label: date}}
CLIENTS: dict[str, dict[str, object]] = {
    # accepted 1.0 ahead of its effective date, never accepts the material 2.0: the minor 2.1
    # carries 2.0's changes, so its notification does not bind A either.
    "A": {
        "accepted": [("1.0", D("2023-12-15"))],
        "notified": {"2.0": D("2024-05-01"), "2.1": D("2024-12-01")},
    },
    # accepts 1.0, then the material 2.0 by click-through; notified of 2.1 before it is in force.
    "B": {
        "accepted": [("1.0", D("2024-02-01")), ("2.0", D("2024-07-15"))],
        "notified": {"2.0": D("2024-05-01"), "2.1": D("2024-12-01")},
    },
    # a new client accepting the scheduled 2.0 before it is in force; notified of 2.1 late.
    "C": {
        "accepted": [("2.0", D("2024-05-20"))],
        "notified": {"2.1": D("2025-02-10")},
    },
    # skips 2.0, then accepts 2.1 directly through a contract signature.
    "D": {
        "accepted": [("1.0", D("2024-03-01")), ("2.1", D("2025-03-01"))],
        "notified": {"2.0": D("2024-05-01"), "2.1": D("2024-12-01")},
    },
    # never accepted anything: notifications alone bind nobody.
    "E": {"accepted": [], "notified": {"1.0": D("2023-12-01"), "2.1": D("2024-12-01")}},
    # accepts 2.0, then signs an old contract pinned to 1.0: never moves backwards.
    "F": {
        "accepted": [("2.0", D("2024-08-01")), ("1.0", D("2024-09-01"))],
        "notified": {},
    },
}

# (client, date, expected label or None)
EXPECTED: list[tuple[str, date, str | None]] = [
    ("A", D("2023-12-15"), None),  # accepted, not yet in force
    ("A", D("2023-12-31"), None),
    ("A", D("2024-01-01"), "1.0"),
    ("A", D("2024-05-31"), "1.0"),
    ("A", D("2024-06-01"), "1.0"),  # material 2.0 in force, not accepted
    ("A", D("2024-12-31"), "1.0"),
    ("A", D("2025-01-01"), "1.0"),  # minor 2.1 in force and notified, but on top of 2.0
    ("A", D("2026-01-01"), "1.0"),
    ("B", D("2024-01-31"), None),
    ("B", D("2024-02-01"), "1.0"),
    ("B", D("2024-06-01"), "1.0"),  # notified of 2.0, material: not bound yet
    ("B", D("2024-07-14"), "1.0"),
    ("B", D("2024-07-15"), "2.0"),
    ("B", D("2024-12-01"), "2.0"),  # notified of 2.1, not in force yet
    ("B", D("2024-12-31"), "2.0"),
    ("B", D("2025-01-01"), "2.1"),  # minor, notified and in force
    ("C", D("2024-05-20"), None),  # accepted 2.0 before it is in force
    ("C", D("2024-05-31"), None),
    ("C", D("2024-06-01"), "2.0"),
    ("C", D("2025-01-01"), "2.0"),  # 2.1 in force, not notified yet
    ("C", D("2025-02-09"), "2.0"),
    ("C", D("2025-02-10"), "2.1"),
    ("D", D("2024-03-01"), "1.0"),
    ("D", D("2025-01-01"), "1.0"),
    ("D", D("2025-02-28"), "1.0"),
    ("D", D("2025-03-01"), "2.1"),  # accepting 2.1 accepts what it carries
    ("E", D("2024-01-01"), None),
    ("E", D("2025-06-01"), None),
    ("F", D("2024-07-31"), None),
    ("F", D("2024-08-01"), "2.0"),
    ("F", D("2024-09-01"), "2.0"),
    ("F", D("2025-06-01"), "2.0"),
]
