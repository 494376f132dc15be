"""Loading: the app a command line names, `module:attribute` or `path/to/file.py:attribute`.

`load_app` imports it (the current folder importable, as for gunicorn), anew when a reloading
worker asks; `import_target` finds the name an app already imported goes by. Nothing here serves.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any


class AppNotFound(SystemExit):
    """The named module or attribute does not exist."""


def load_app(target: str, fresh: bool = False) -> Any:
    """Import and return the WSGI app named by `module:attribute` or `file.py:attribute`.

    `fresh` imports the app's modules anew (from their folder), for a reloading worker.
    """
    module_name, _, attribute = target.partition(":")
    attribute = attribute or "app"
    if fresh:
        _forget_modules_beside(module_name)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    if module_name.endswith(".py") or os.sep in module_name:
        path = os.path.abspath(module_name)
        if not os.path.isfile(path):
            raise AppNotFound(f"no such file: {module_name}")
        sys.path.insert(0, os.path.dirname(path))
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name.split(".")[0] and exc.name != module_name:
                raise
            raise AppNotFound(
                f"cannot import {module_name!r}: run from the folder that contains it, "
                "or name the file: wsgilite run path/to/app.py:app"
            ) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise AppNotFound(f"{module_name!r} has no attribute {attribute!r}") from None


def _forget_modules_beside(module_name: str) -> None:
    # The app's folder: its file's, or its top package's. Every module loaded from there is
    # dropped, so the next import reads the code as it is now.
    if module_name.endswith(".py") or os.sep in module_name:
        folder = os.path.dirname(os.path.abspath(module_name))
    else:
        top = sys.modules.get(module_name.split(".")[0])
        file = getattr(top, "__file__", None)
        if file is None:
            return
        folder = os.path.dirname(os.path.abspath(file))
        if os.path.basename(file) == "__init__.py":
            folder = os.path.dirname(folder)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and os.path.abspath(file).startswith(folder + os.sep):
            del sys.modules[name]


def import_target(app: Any) -> str | None:
    """Return `module:attribute` (or `file.py:attribute`) that names `app`, if one does."""
    module = sys.modules.get(getattr(app, "import_name", "") or "")
    if module is None:
        return None
    for attribute, value in vars(module).items():
        if value is app:
            if module.__name__ == "__main__":
                file = getattr(module, "__file__", None)
                return f"{file}:{attribute}" if file else None
            return f"{module.__name__}:{attribute}"
    return None
