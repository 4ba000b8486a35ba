"""The Celery worker side of ``jobs.backend = "celery"``: the app ``pylapse worker`` runs, with
the project's task bodies registered on it (issue 21 §3)."""
