"""RFC 3161 timestamp authorities (the "T" of PAdES B-T and later levels)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from asn1crypto import cms
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

from signing.errors import InvalidSpecError, TimestampError

__all__ = ["TimestampAuthority"]


@dataclass(frozen=True)
class TimestampAuthority:
    """A TSA to ask for signature timestamps.

    ``token_size_allowance`` is the room (DER bytes) reserved in the signature
    for the token: tokens embed the TSA's certificate chain, a few KB for
    commercial TSAs, so the default leaves ample margin.
    """

    url: str
    timeout_seconds: float = 10.0
    token_size_allowance: int = 16 * 1024

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in {"http", "https"}:
            raise InvalidSpecError(f"timestamp authority URL must be http(s): {self.url!r}")
        if self.timeout_seconds <= 0 or self.token_size_allowance <= 0:
            raise InvalidSpecError("timeout_seconds and token_size_allowance must be positive")

    def pyhanko_timestamper(self, session: aiohttp.ClientSession | None = None) -> TimeStamper:
        """A timestamp client; give ``session`` to pool connections (see :class:`TrustServices`)."""
        return _FailClosedTimeStamper(self.url, timeout=self.timeout_seconds, session=session)


class _FailClosedTimeStamper(HTTPTimeStamper):
    """Turns every failure to obtain a token into :class:`TimestampError`.

    pyHanko raises assorted exception types depending on where the exchange
    fails (connection, HTTP status, malformed reply); converting them here,
    at the source, means a TSA failure can never be mistaken for another
    signing error, let alone ignored.
    """

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        # Wraps the whole exchange: transport errors, refusals (status not
        # "granted") and replies with a wrong nonce alike.
        try:
            token = await super().async_timestamp(message_digest, md_algorithm)
        except TimestampError:
            raise
        except Exception as exc:
            raise TimestampError(f"timestamp authority {self.url} failed: {exc}") from exc
        # pyHanko asks the TSA for an extra "dummy" token to learn its size and
        # certificates; a real token serves as well and saves that request.
        if md_algorithm not in self._dummy_response_cache:
            self._register_dummy(md_algorithm, token)  # type: ignore[no-untyped-call]
        return token
