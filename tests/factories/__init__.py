"""The builders of test data, in one place: users and tokens, CGV, clients, quotes,
contracts, signatures, invoices and deposited documents. They go through the services (fast,
no HTTP) and commit like the app does; in a test's outer transaction (tests/conftest.py) the
commits are savepoints rolled back after the test.

Import them from here: ``from tests.factories import make_client, make_quote``."""

from tests.factories.db import count, runtime, session_of
from tests.factories.documents import deposit_document, deposit_file
from tests.factories.invoices import (
    annual_plan,
    make_credit_note,
    make_invoice,
    plan_for,
)
from tests.factories.people import (
    PASSWORD,
    login,
    login_as,
    make_fast_user,
    make_token,
    make_user,
)
from tests.factories.sales import (
    SHORT_CGV,
    VALID_CLIENT,
    Contracted,
    make_clause,
    make_client,
    make_contract,
    make_contracted_client,
    make_product,
    make_quote,
    publish_cgv,
    publish_short_cgv,
)
from tests.factories.signing import (
    Signed,
    authenticate_link,
    certified_for,
    expire_link,
    send_contract,
    send_version_1,
    sent_link,
    sign_completely,
    sign_through_services,
    sign_token,
    signed_contract,
    signed_from_quote,
    signer_of,
)

__all__ = [
    "PASSWORD",
    "SHORT_CGV",
    "VALID_CLIENT",
    "Contracted",
    "Signed",
    "annual_plan",
    "authenticate_link",
    "certified_for",
    "count",
    "deposit_document",
    "deposit_file",
    "expire_link",
    "login",
    "login_as",
    "make_clause",
    "make_client",
    "make_contract",
    "make_contracted_client",
    "make_credit_note",
    "make_fast_user",
    "make_invoice",
    "make_product",
    "make_quote",
    "make_token",
    "make_user",
    "plan_for",
    "publish_cgv",
    "publish_short_cgv",
    "runtime",
    "send_contract",
    "send_version_1",
    "sent_link",
    "session_of",
    "sign_completely",
    "sign_through_services",
    "sign_token",
    "signed_contract",
    "signed_from_quote",
    "signer_of",
]
