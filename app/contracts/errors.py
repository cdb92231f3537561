from app.errors import Conflict, FieldErrors, NotFound


class ContractNotFound(NotFound):
    """No contract with this id."""


class ContractRefused(Conflict):
    """The quote cannot (or can no longer) become a contract."""


class ContractInvalid(FieldErrors):
    """What sales added to the contract (free text, clauses) is refused, one message per field."""


class QuoteAlreadyContracted(ContractRefused):
    """The quote already became this contract (a second click, a retry): answered with the
    contract's page, not an error page."""

    def __init__(self, detail: str, contract_id: int) -> None:
        super().__init__(detail)
        self.contract_id = contract_id
