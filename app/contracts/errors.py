from app.errors import Conflict, FieldErrors, NotFound


class ContractNotFound(NotFound):
    """No contract with this id."""


class ContractRefused(Conflict):
    """The quote cannot (or can no longer) become a contract."""


class ContractInvalid(FieldErrors):
    """What sales added to the contract (free text, clauses) is refused, one message per field."""


class AlreadyInContract(ContractRefused):
    """What was asked exists already, in contract `contract_id`: answered with the contract's
    page, not an error page."""

    def __init__(self, detail: str, contract_id: int) -> None:
        super().__init__(detail)
        self.contract_id = contract_id


class QuoteAlreadyContracted(AlreadyInContract):
    """The quote already became this contract (a second click, a retry)."""


class VersionAlreadyCreated(AlreadyInContract):
    """The version the user's page was based on is no longer the latest: a second click on
    "new version", or a colleague's change in between. Answered with the contract's page
    showing the version that exists, never a second version nobody asked for."""
