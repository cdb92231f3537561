"""Signed webhooks (Standard Webhooks): endpoints managed by admins, one delivery row per
(event, endpoint) fed by the event outbox (`app.events`), delivered by a job with its own
backoff schedule, logged attempt by attempt."""
