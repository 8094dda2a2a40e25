"""The files the assistant ships beside its code: the prompts and the default corpus.

They stay in the top-level ``prompts/`` and ``corpus/`` folders of the source tree. A built wheel
carries them inside this package, as ``assistant/resources/prompts/`` and
``assistant/resources/corpus/`` (pyproject.toml maps the two folders onto these packages), and
:mod:`importlib.resources` finds them there. Run from a source checkout (or an editable install),
this package holds neither, and the top-level folders are used.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SHIPPED = ("prompts", "corpus")
# the folder holding the packages: the source checkout (in an install, site-packages)
REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def shipped_folder(name: str) -> Path:
    """The folder of shipped files called ``name`` (one of :data:`SHIPPED`): inside the installed
    package when the wheel carries it, else the source tree's top-level folder."""
    if name not in SHIPPED:
        raise ValueError(f"no shipped folder called {name!r} (there are {', '.join(SHIPPED)})")
    packaged = resources.files(__name__) / name
    if packaged.is_dir():  # pip installs a wheel unpacked, so this is a real folder
        return Path(str(packaged))
    return REPO_ROOT / name
