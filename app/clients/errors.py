from app.errors import Conflict, FieldErrors, NotFound


class ClientInvalid(FieldErrors):
    """Client data that fails validation, one message per field."""


class ClientNotFound(NotFound):
    """No client with this id."""


class ClientAlreadyTerminated(Conflict):
    """The client's termination is already recorded."""
