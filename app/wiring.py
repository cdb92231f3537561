"""The process-wide collaborators (database, blob store, mailer, seal key) built once by
`create_app` and handed to services by the HTTP and CLI edges."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.mail import Mailer
from storage import BlobStore

if TYPE_CHECKING:
    from signing import SealKey, SigningKey, TrustServices


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    store: BlobStore
    mailer: Mailer
    _seal: SealKey | None = None
    _seal_lock: threading.Lock = field(default_factory=threading.Lock)
    _signing_key: SigningKey | None = None
    _trust: TrustServices | None = None

    def seal_key(self) -> SealKey:
        """The seal key, loaded once per process (parsing a key costs more than signing)."""
        if self._seal is None:
            with self._seal_lock:
                if self._seal is None:
                    from app.signatures.keys import load_seal_key

                    self._seal = load_seal_key(self.settings)
        return self._seal

    def signing_key(self) -> SigningKey:
        """The seal key wherever it lives (PKCS#11 token when configured), loaded once."""
        if self._signing_key is None:
            with self._seal_lock:
                if self._signing_key is None:
                    from app.signatures.keys import load_signing_key

                    self._signing_key = load_signing_key(self.settings)
        return self._signing_key

    def trust_services(self) -> TrustServices | None:
        """Timestamp authority, trust anchors and revocation fetching, built once per process
        when PARAPHE_TSA_URL is set (signatures are then B-T and the seal B-LTA); None
        otherwise (B-B). Its API is synchronous: never call it inside a running event loop."""
        if self.settings.tsa_url is None:
            return None
        if self._trust is None:
            with self._seal_lock:
                if self._trust is None:
                    from app.signatures.keys import trust_roots
                    from signing import TimestampAuthority, TrustServices

                    self._trust = TrustServices(
                        trust_roots(self.settings), TimestampAuthority(self.settings.tsa_url)
                    )
        return self._trust


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["paraphe"]
    return rt


def db_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = runtime().session_factory()
    session: Session = g.db_session
    return session


def read_only_db_session() -> Session:
    """The request's session, for a view that only reads (and never writes).

    On PostgreSQL its statements then run in autocommit: a single SELECT needs no transaction,
    and this saves the BEGIN and ROLLBACK round trips, two of the four a warm API read made
    (with the pool's ping and the query). SQLite keeps its transactions (its BEGIN IMMEDIATE
    is what serialises writers). If the request already opened a transaction, it goes on."""
    session = db_session()
    if not session.in_transaction() and session.get_bind().dialect.name != "sqlite":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session
