from app.errors import FieldErrors, NotFound


class ClauseInvalid(FieldErrors):
    """A clause whose title or body is refused, one message per field."""


class ClauseNotFound(NotFound):
    """No clause (or clause version) with this id."""
