"""The webhooks' errors, raised by services and jobs alike; app.error_table answers them
through their bases (404, 422)."""

from __future__ import annotations

from app.errors import FieldErrors, NotFound


class EndpointNotFound(NotFound):
    """No webhook endpoint has this id."""


class DeliveryNotFound(NotFound):
    """No delivery has this id."""


class EndpointInvalid(FieldErrors):
    """Field problems of an endpoint (URL, event types, description)."""
