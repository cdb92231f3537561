"""The OpenAPI description matches the code: schemathesis generates requests from it against
the real app (WSGI, real database) and checks every answer: no 5xx, documented status codes,
content types, headers and bodies that follow the schema."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES

from app.auth.models import Scope
from tests.factories import (
    deposit_document,
    make_clause,
    make_client,
    make_product,
    make_quote,
    make_token,
    publish_short_cgv,
)

# At least 100 generated requests per operation and mode in CI (the floor): the `full`
# run, marked slow (.ci/test runs it; `-m slow` alone runs it). The default run (`-m "not
# slow"`) covers every operation in both modes with fewer examples, fewer still for the
# operations whose every accepted request renders or hashes a document.
EXAMPLES_PER_OPERATION = 100
DEFAULT_EXAMPLES = 20
DEFAULT_EXAMPLES_HEAVY = 8
HEAVY = {
    "POST /quotes",  # the body's strategy (nested lines, terms) is the costliest to draw
    "POST /quotes/{quote_id}/contract",  # renders a PDF (WeasyPrint) inline
    "POST /contracts/{contract_id}/versions",  # renders a PDF inline once a contract exists
    "GET /documents/{document_id}/verification",  # hashes and checks a signed PDF
    "GET /documents",  # many query parameters, each a filter on the archive
}
OPERATIONS_WITH_DOMAIN_RULES = [
    "GET /clients",  # the SIREN's key; one of siren and vat_number, which no schema can say
    "POST /clients",
    "PATCH /clients/{client_id}",
    "POST /quotes",
    "POST /quotes/{quote_id}/contract",
    "POST /contracts/{contract_id}/versions",  # a clause version or a quote of another client
]


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(app, *Scope)}"}


@pytest.fixture
def api_schema(app: Flask, auth: dict[str, str]) -> Any:
    # Something to find: ids 1 and 2 exist, so generated ids hit real rows too.
    client_id = make_client(app)
    deposit_document(app, client_id, "CTR-2026-0001")
    deposit_document(app, client_id, "CTR-2026-0002")
    make_client(app, siren="732829320", vat_number="")
    # The write operations find a quote, a clause and a product to use (a contract and its
    # signature request are made by the generated requests themselves).
    publish_short_cgv(app)
    make_quote(app, client_id)
    make_clause(app)
    make_product(app)
    expected = [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, 410, 416]
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {
                    # A well-formed request may still find nothing to serve: 410 (content
                    # purged at the end of its retention) and 416 (a byte range beyond the end,
                    # RFC 9110 §15.5.17) say so; a 422 (malformed) never answers valid data.
                    "expected-statuses": expected
                }
            },
            "operations": [
                {
                    # A body the description calls valid may still break a rule no schema
                    # can state: a SIREN's key, a VAT number's, a price with 3 decimals, a
                    # product code the catalogue lacks. Those 422s name the member's path
                    # (tests/integration/test_write_api.py checks each).
                    "include-name": OPERATIONS_WITH_DOMAIN_RULES,
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*expected, 422]}},
                }
            ],
        }
    )
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=auth, config=config)


def _mutates_authorization(case: Any) -> bool:
    """A negative case whose mutation is the token itself (removed, or not a bearer token)."""
    mutations = getattr(case.meta.phase.data, "mutations", ()) if case.meta else ()
    return any(mutation.parameter == "Authorization" for mutation in mutations)


def _examples(label: str, full: bool) -> int:
    if full:
        return EXAMPLES_PER_OPERATION
    return DEFAULT_EXAMPLES_HEAVY if label in HEAVY else DEFAULT_EXAMPLES


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(
    "full",
    [pytest.param(False, id="default"), pytest.param(True, id="full", marks=pytest.mark.slow)],
)
def test_api_follows_its_description(
    api_schema: Any, auth: dict[str, str], mode: GenerationMode, full: bool
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # with the webhooks (endpoint deletion too), the restitution status, the writes, invoices,
    # the client lookup by SIREN, a contract and its signature requests read back
    assert len(operations) == 44
    assert {o.label for o in operations} >= HEAVY  # a renamed operation keeps its budget
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=_examples(operation.label, full),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def run(case: Any) -> None:
            # Every check, positive_data_acceptance included: a request the description
            # calls valid is never refused with a 4xx that says it is malformed.
            if _mutates_authorization(case):
                case.call_and_validate()  # a missing or malformed token, as generated: 401
            else:
                case.call_and_validate(headers=auth)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a group
            found = getattr(exc, "exceptions", [exc])  # every operation's, then all at once
            failures += [f"{operation.label}: {failure}" for failure in found]
    assert not failures, "\n\n".join(failures)


def test_description_is_served_and_browsable(app: Flask, auth: dict[str, str]) -> None:
    client = app.test_client()
    assert client.get("/api/v1/openapi.json").status_code == 401
    spec = client.get("/api/v1/openapi.json", headers=auth).get_json()
    assert spec["openapi"].startswith("3.") and "/documents" in spec["paths"]
    routes = {
        re.sub(r"<int:(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json"
    }
    assert routes == set(spec["paths"])  # every route is described, nothing more
    page = client.get("/documentation/api")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "GET /api/v1/documents" in html and "legal-hold" in html
    assert "<script" not in html and "http" not in html.split("<body", 1)[1].replace(
        "http-equiv", ""
    )
