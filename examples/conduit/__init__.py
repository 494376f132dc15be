"""Conduit: the RealWorld API (a Medium-like blogging backend) on wsgilite.

    from examples.conduit import create_app
    app = create_app({"DATABASE": "conduit.db"})

Layout: `app.py` builds the App; `routes/` holds one Router per resource; `validation.py` checks
every input; `auth.py` does tokens and passwords; `store.py` the queries; `db.py` the two
databases; `schema.py` the tables and `migrate`; `state.py` the per-app and per-request state.
`python -m examples.conduit migrate|serve` runs it from the repository's root folder.
"""

from .app import create_app

__all__ = ["create_app"]
