"""The app for a WSGI server: `gunicorn examples.conduit.wsgi:app` (from the repository root)."""

from .app import create_app

app = create_app()
