"""The network side of PAdES B-LT/B-LTA: one pooled HTTP client, cached validation data.

A :class:`TrustServices` lives as long as the process (like the seal key). It
owns one ``aiohttp`` session, used by the timestamp client and by the OCSP,
CRL and certificate fetchers alike, and a small event loop on a background
thread for that session: pyHanko's synchronous API would otherwise open (and
close) a fresh event loop, and with it a fresh connection, for every call.

Revocation data is fetched once per certificate and reused while it is
fresh (``revocation_ttl``): each signer certificate keeps its own set of
fetchers, which remember what they fetched, and gets a fresh validation
context (validation time: now) built on them for every operation. Fetchers
are not shared across certificates: a context embeds everything its fetchers
hold, so sharing would put one signer's data in another's documents.

Every request is counted, per URL, so that tests and benchmarks can check
that one timestamp costs one TSA request.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import Counter
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, TypeVar

import aiohttp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers import Fetchers
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy

from signing.errors import InvalidSpecError, SigningError
from signing.timestamps import TimestampAuthority
from signing.verify import load_trust_roots

__all__ = ["HttpPool", "TrustServices"]

T = TypeVar("T")

REVOCATION_CLOCK_TOLERANCE = timedelta(minutes=2)


class HttpPool:
    """One ``aiohttp`` session on its own event-loop thread, with a request counter.

    Thread-safe: coroutines from any thread are run on the pool's loop by
    :meth:`run`, which blocks until they finish.
    """

    def __init__(self, *, timeout_seconds: float = 10.0) -> None:
        if timeout_seconds <= 0:
            raise InvalidSpecError("timeout_seconds must be positive")
        self._timeout = timeout_seconds
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="signing-http", daemon=True
        )
        self._thread.start()
        self._closed = False
        self._session: aiohttp.ClientSession = self.run(self._open())

    async def _open(self) -> aiohttp.ClientSession:
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(self._on_request_start)
        return aiohttp.ClientSession(
            trace_configs=[trace], timeout=aiohttp.ClientTimeout(total=self._timeout)
        )

    async def _on_request_start(
        self,
        _session: aiohttp.ClientSession,
        _context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        url = params.url.with_query(None)
        with self._lock:
            self._counts[str(url)] += 1

    @property
    def timeout_seconds(self) -> float:
        return self._timeout

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session; use it only from coroutines given to :meth:`run`."""
        return self._session

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the pool's loop and return its result (re-raising its error)."""
        if self._closed:
            coroutine.close()
            raise SigningError("the HTTP pool is closed")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            coroutine.close()
            raise SigningError("HttpPool.run cannot be called from the pool's own loop")
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result()

    def request_counts(self) -> dict[str, int]:
        """Requests sent so far, per URL (without query string)."""
        with self._lock:
            return dict(self._counts)

    def requests_total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def close(self) -> None:
        if self._closed:
            return
        self.run(self._session.close())
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> HttpPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@dataclass
class _CertificateFetchers:
    fetchers: Fetchers
    started: datetime


class TrustServices:
    """Timestamp authority, trust anchors and revocation fetching for one process.

    ``trust_roots`` are the anchors the signers' and the TSA's chains end in
    (DER or PEM). Without ``pool``, one is made (and closed by :meth:`close`)
    with the timestamp authority's timeout. ``revocation_ttl`` bounds how long
    fetched OCSP responses and CRLs are reused before being fetched again.
    """

    def __init__(
        self,
        trust_roots: Sequence[bytes],
        timestamp_authority: TimestampAuthority | None = None,
        *,
        pool: HttpPool | None = None,
        revocation_ttl: timedelta = timedelta(hours=1),
    ) -> None:
        if revocation_ttl <= timedelta(0):
            raise InvalidSpecError("revocation_ttl must be positive")
        self.trust_roots: tuple[asn1_x509.Certificate, ...] = tuple(load_trust_roots(trust_roots))
        if not self.trust_roots:
            raise InvalidSpecError("at least one trust root is needed to validate certificates")
        self.timestamp_authority = timestamp_authority
        self._own_pool = pool is None
        if pool is None:
            timeout = timestamp_authority.timeout_seconds if timestamp_authority else 10.0
            pool = HttpPool(timeout_seconds=timeout)
        self.pool = pool
        self._ttl = revocation_ttl
        self._lock = threading.Lock()
        self._fetchers: dict[bytes, _CertificateFetchers] = {}
        self._timestamper: TimeStamper | None = None

    def timestamper(self) -> TimeStamper:
        """The one timestamp client (pooled session, cached size-estimation token)."""
        if self.timestamp_authority is None:
            raise InvalidSpecError("no timestamp authority is configured")
        with self._lock:
            if self._timestamper is None:
                self._timestamper = self.timestamp_authority.pyhanko_timestamper(
                    session=self.pool.session
                )
            return self._timestamper

    def timestamp_digest(self, digest: bytes, md_algorithm: str = "sha256") -> bytes:
        """An RFC 3161 timestamp token (DER ContentInfo) whose message imprint is ``digest``,
        from the configured TSA through the pooled session (one request). Raises
        :class:`TimestampError` when the TSA fails, InvalidSpecError when there is none."""
        token = self.pool.run(self.timestamper().async_timestamp(digest, md_algorithm))
        der: bytes = token.dump()
        return der

    def validation_context(self, certificate: asn1_x509.Certificate) -> ValidationContext:
        """A fresh validation context (validation time: now) for ``certificate``'s chain.

        Its fetchers are the certificate's own, kept for ``revocation_ttl``:
        OCSP responses and CRLs are fetched once per certificate and reused,
        and a context embeds only what its certificate's chain needed (a
        context embeds everything its fetchers hold, so they are never shared
        between certificates).
        """
        key = hashlib.sha256(certificate.dump()).digest()
        now = datetime.now(UTC)
        with self._lock:
            for stale in [k for k, v in self._fetchers.items() if now - v.started >= self._ttl]:
                del self._fetchers[stale]
            entry = self._fetchers.get(key)
            if entry is None:
                # pyHanko's default fetch budget (a bound on hostile inputs) per entry.
                backend = AIOHttpFetcherBackend(
                    session=self.pool.session, per_request_timeout=self.pool.timeout_seconds
                )
                entry = _CertificateFetchers(backend.get_fetchers(), now)
                self._fetchers[key] = entry
        return ValidationContext(
            trust_roots=list(self.trust_roots),
            allow_fetching=True,
            fetchers=entry.fetchers,
            # Fail closed: a certificate whose revocation status cannot be
            # fetched stops the signature instead of leaving a gap in the
            # document's long-term validation data.
            revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            # An OCSP response produced a moment after the context was made
            # (slow network, busy machine) must not be rejected as "not yet
            # valid" and trigger a needless CRL download.
            time_tolerance=REVOCATION_CLOCK_TOLERANCE,
        )

    def discard_fetched(self) -> None:
        """Forget every certificate's fetchers (and what they fetched, failures included):
        the next validation context fetches afresh."""
        with self._lock:
            self._fetchers.clear()

    def close(self) -> None:
        """Close the HTTP pool if this object created it."""
        if self._own_pool:
            self.pool.close()
