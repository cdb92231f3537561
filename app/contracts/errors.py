from app.errors import Conflict, FieldErrors, NotFound


class ContractNotFound(NotFound):
    """No contract with this id."""


class ContractRefused(Conflict):
    """The quote cannot (or can no longer) become a contract."""


class ContractInvalid(FieldErrors):
    """What sales added to the contract (free text, clauses) is refused, one message per field."""
