"""The client space's use cases that mail or hand over to another feature's job: asking
for a sign-in link, asking for the restitution archive."""

from __future__ import annotations

from app.archive import workflow as archive
from app.client_space import mails, signin
from app.client_space.errors import RestitutionNotOpen
from app.clients.models import Client, ClientStatus
from app.db import transaction
from app.mail.outbox import enqueue_mail
from app.messages import msg
from app.runtime import Collaborators


def request_sign_in(collab: Collaborators, email: str) -> None:
    """Mail a sign-in link for each client `email` may open; nothing for an unknown address
    (the page says the same either way). The mails are written with the links, in one
    transaction: no link without its mail, no mail for a link rolled back."""
    settings = collab.settings
    with transaction(collab.session_factory) as session:
        for issued in signin.issue_links(session, email, now=collab.now):
            mail = mails.sign_in_mail(settings.vendor.legal_name, settings.base_url, issued)
            enqueue_mail(session, mail, now=collab.now)


def order_restitution(collab: Collaborators, client_id: int, *, email: str) -> int | None:
    """The contact asks for its archive: the id of the request to build (the caller enqueues
    its job), or None when the latest archive is still current (it is in the space)."""
    with transaction(collab.session_factory) as session:
        client = session.get(Client, client_id)
        assert client is not None  # the session's client
        if client.status is not ClientStatus.TERMINATED:
            raise RestitutionNotOpen(
                msg("La restitution de vos documents est proposée après la résiliation du contrat.")
            )
    if archive.restitution_is_current(collab, client_id):
        return None
    return archive.order_restitution(collab, client_id, actor=f"contact:{email}")
