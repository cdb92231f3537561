"""What of an exception may be kept in `job_runs` and shown to the admins: its first lines,
with anything that looks like a secret masked. Pure: no I/O.

An error message can quote a connection string (a broker, SMTP or database URL with its
password), a `password=…` pair from a DSN, a bearer token or a signing link's token; none of
them may reach a table that a page displays."""

from __future__ import annotations

import re

MAX_LINES = 5
MAX_CHARS = 1000
MASK = "***"

# scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+(?=@)", re.I)
# password=…, passphrase: …, secret_key=…, token=… (DSN pairs, repr of settings, query strings)
_PAIR = re.compile(
    r"(?P<head>\b[\w\-]*(?:password|passwd|passphrase|secret|token|api_key|apikey)[\w\-]*"
    r"['\"]?\s*[=:]\s*['\"]?)[^\s'\",;&)]+",
    re.I,
)
_BEARER = re.compile(r"(?P<head>\bBearer\s+)\S+", re.I)
# Link tokens are 43 characters of base64url (app.tokens); SHA-256 digests (64 hex digits),
# which the integrity errors name, stay readable.
_OPAQUE = re.compile(r"(?<![\w\-])(?![0-9a-f]{64}(?![\w\-]))[A-Za-z0-9_\-]{32,}(?![\w\-])")


def redact(text: str) -> str:
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    text = _PAIR.sub(lambda m: m.group("head") + MASK, text)
    text = _BEARER.sub(lambda m: m.group("head") + MASK, text)
    return _OPAQUE.sub(MASK, text)


def error_summary(exc: BaseException) -> str:
    """`Type: message`, first lines only, secrets masked."""
    message = str(exc).strip()
    text = type(exc).__name__ + (f" : {message}" if message else "")
    lines = text.splitlines()
    kept = "\n".join(lines[:MAX_LINES])
    if len(lines) > MAX_LINES:
        kept += "\n…"
    kept = redact(kept)
    return kept if len(kept) <= MAX_CHARS else kept[: MAX_CHARS - 1] + "…"
