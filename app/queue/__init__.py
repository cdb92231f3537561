"""Background jobs on Huey: the broker, the typed task decorators and the collaborators a task
runs with. Features declare their tasks in their own `tasks` module; `paraphe worker` runs
them. Infrastructure: it knows no feature."""
