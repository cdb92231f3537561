"""Paraphe. The application factory is `app.factory.create_app`; this package itself imports
nothing, so that importing one module (a renderer in a worker process, a model in a
migration) does not load every view."""
