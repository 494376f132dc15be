"""gunicorn settings for a wsgilite app served by plain gunicorn: startup hooks at worker start.

    gunicorn -c python:wsgilite.gunicorn myproject.web:app

runs each App's `@app.on_startup` hooks in every worker after the fork, before it accepts a
request (never in the master, so nothing opened there is shared by forked workers). With a
gunicorn.conf.py of your own, import the hook there: `from wsgilite.gunicorn import
post_worker_init`. `wsgilite run --server gunicorn` sets it by itself.
"""

from __future__ import annotations

from .servers import start_in_worker as post_worker_init

__all__ = ["post_worker_init"]
