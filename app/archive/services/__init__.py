"""The archive's use cases, one module per capability: `retention` (termination, legal
hold), `listing` (the API's reads), `scrub` (the blob store checked against its references).
The restitution has its own package (`app.archive.restitution`)."""
