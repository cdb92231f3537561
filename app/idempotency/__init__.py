"""Idempotent API writes: a POST carrying an `Idempotency-Key` has one effect, whatever the
retries, and every repetition gets the first answer back."""
