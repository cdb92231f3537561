"""The WSGI entry point for servers given a module path (`granian --interface wsgi wsgi:app`,
`gunicorn wsgi:app`); `paraphe serve` uses the app factory instead."""

from app.factory import create_app

app = create_app()
