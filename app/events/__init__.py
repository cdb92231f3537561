"""The event outbox: what changed, written in the transaction of the change, for the webhooks
(and for receivers that poll `GET /api/v1/events`). Low in the feature order so that every
feature records its events; it knows none of them, nor the webhooks that deliver them."""
