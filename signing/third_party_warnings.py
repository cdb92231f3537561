"""Warnings of the libraries under pyHanko that no Paraphe operator can act on, silenced
before pyHanko is first imported (this package's `__init__` imports this module first).

cryptography 51 deprecates DSA, and pyHanko 0.38 (pinned: see pyproject.toml) imports its DSA
key types to recognise such keys: every process that signs printed the warning at start-up,
in the worker's log. Paraphe never creates nor accepts DSA keys (RSA and ECDSA only)."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

warnings.filterwarnings(
    "ignore",
    message="DSA is deprecated",
    category=CryptographyDeprecationWarning,
    module=r"pyhanko",  # pyhanko and pyhanko_certvalidator
)
