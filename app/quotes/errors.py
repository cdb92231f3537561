from app.errors import FieldErrors, NotFound


class QuoteInvalid(FieldErrors):
    """Quote lines or terms that fail validation, one message per field."""


class QuoteNotFound(NotFound):
    """No quote with this id."""


class ProductInvalid(FieldErrors):
    """A catalogue item that fails validation, one message per field."""


class ProductNotFound(NotFound):
    """No catalogue item with this id."""
