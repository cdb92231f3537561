"""The WSGI entry point: `gunicorn wsgi:app` or `paraphe run`."""

from app import create_app

app = create_app()
