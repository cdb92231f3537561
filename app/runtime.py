"""The process-wide collaborators (database, blob store, mailer, seal key, trust services),
built once per process by `create_app` or a worker, and the `Collaborators` a workflow
receives: everything a multi-transaction use case needs, passed in rather than looked up, so
that a test injects a failing key or a TSA that is down by passing another object."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.mail import Mailer
from app.pki import load_seal_key, load_signing_key, trust_roots
from signing import SealKey, SigningKey, SignSpec, TimestampAuthority, TrustServices, platform_seal
from storage import BlobStore

SealStamp = Callable[[bytes, SigningKey, SignSpec, TrustServices | None], bytes]
"""How the platform's seal goes on a completed request's PDF (`signing.platform_seal`): its
own collaborator, so that a test hands the runtime a seal that fails (a TSA down) instead of
patching the module that calls it."""


T = TypeVar("T")


class LoadedOnce(Generic[T]):
    """A value loaded on first use and kept for the life of the process: threads that ask
    together load it once (the lock), and once loaded it is read without the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self, load: Callable[[], T]) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = load()
        return self._value


@dataclass(frozen=True)
class Collaborators:
    """What a workflow function works with. It opens its own short transactions from
    `session_factory` and never holds one across rendering, signing or mail. Keys and trust
    services are callables: loading a key costs more than signing, so it happens once, and
    only when a workflow actually signs."""

    settings: Settings
    session_factory: sessionmaker[Session]
    store: BlobStore
    mailer: Mailer
    signing_key: Callable[[], SigningKey]
    trust: Callable[[], TrustServices | None]
    now: datetime
    seal_stamp: SealStamp = platform_seal


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    store: BlobStore
    mailer: Mailer
    """What the application sends with: the outbox (`app.mail.outbox.QueuedMailer`), each mail a
    row delivered by the job `mail.deliver`."""
    transport: Mailer
    """What that job hands the message to: the SMTP server, or the outbox folder."""
    seal_stamp: SealStamp = platform_seal
    _seal: LoadedOnce[SealKey] = field(default_factory=LoadedOnce)
    _signing_key: LoadedOnce[SigningKey] = field(default_factory=LoadedOnce)
    _trust: LoadedOnce[TrustServices] = field(default_factory=LoadedOnce)

    def seal_key(self) -> SealKey:
        """The seal key, loaded once per process (parsing a key costs more than signing)."""
        return self._seal.get(lambda: load_seal_key(self.settings))

    def signing_key(self) -> SigningKey:
        """The seal key wherever it lives (PKCS#11 token when configured), loaded once."""
        return self._signing_key.get(lambda: load_signing_key(self.settings))

    def trust_services(self) -> TrustServices | None:
        """Timestamp authority, trust anchors and revocation fetching, built once per process
        when PARAPHE_TSA_URL is set (signatures are then B-T and the seal B-LTA); None
        otherwise (B-B). Its API is synchronous: never call it inside a running event loop."""
        tsa_url = self.settings.tsa_url
        if tsa_url is None:
            return None
        return self._trust.get(
            lambda: TrustServices(trust_roots(self.settings), TimestampAuthority(tsa_url))
        )

    def collaborators(self, now: datetime) -> Collaborators:
        """The collaborators of one unit of work started at `now`."""
        return Collaborators(
            settings=self.settings,
            session_factory=self.session_factory,
            store=self.store,
            mailer=self.mailer,
            signing_key=self.signing_key,
            trust=self.trust_services,
            now=now,
            seal_stamp=self.seal_stamp,
        )
