"""Find the documents to index and what is known about each (title, date, kind, publisher).

A folder may hold a ``manifest.json``: a list of ``{"file", "title", "publisher", "date",
"kind"}``. Files it does not describe get their title from the file itself or their name. The
web app's uploads folder also records each file's provenance there (``origin``, ``owner``,
``uploaded_at``, ``published_by``, ``published_at``: see :class:`~index.documents.Provenance`),
so indexing that folder again keeps who may see each upload; without them a file is official.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from index.documents import DocumentInfo, Provenance
from index.loaders import is_supported

MANIFEST_NAME = "manifest.json"
UPLOADS_FOLDER = "uploads"  # the one folder of the app's home whose files are documents to index
PROVENANCE_FIELDS = {item.name: item.default for item in fields(Provenance)}  # manifest keys and their defaults


@dataclass
class Discovery:
    """The files found under the given paths, and the ones passed over with a reason."""

    documents: list[DocumentInfo] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def title_from_name(path: Path) -> str:
    words = path.stem.replace("_", " ").replace("-", " ").split()
    return " ".join(words).strip().capitalize() or path.name


def read_manifest(folder: Path) -> dict[str, dict]:
    """The manifest entries of a folder, keyed by file name; {} when there is none."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable manifest ({exc})") from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "file" in e for e in entries):
        raise ValueError(f"{path}: a manifest must be a JSON list of objects with a 'file' field")
    return {str(entry["file"]): entry for entry in entries}


def describe(path: Path, manifest: dict[str, dict], in_uploads: bool = False) -> DocumentInfo:
    """What the manifest says of ``path``. A file in the app's uploads folder that its manifest does
    not describe (an entry lost, say, to two app workers writing the manifest at once) is an upload
    of nobody known, seen by no user until an administrator publishes it, never official."""
    entry = manifest.get(path.name)
    if entry is None:
        entry = {"origin": "uploaded"} if in_uploads else {}
    return DocumentInfo(
        path=path.resolve(),
        title=str(entry.get("title") or ""),
        date=str(entry.get("date") or ""),
        kind=str(entry.get("kind") or ""),
        publisher=str(entry.get("publisher") or ""),
        provenance=Provenance(**{name: str(entry.get(name) or default) for name, default in PROVENANCE_FIELDS.items()}),
    )


def is_app_data(path: Path, app_home: Path | None) -> bool:
    """Whether ``path`` is one of the app's own files (the users file, feedback, audit log, the index):
    anything inside its home folder except the uploads folder."""
    if app_home is None:
        return False
    home = app_home.resolve()
    path = path.resolve()
    return path.is_relative_to(home) and not path.is_relative_to(home / UPLOADS_FOLDER)


def discover(paths: list[Path], app_home: Path | None = None) -> Discovery:
    """Every supported file under ``paths`` (files or folders, searched recursively).

    Hidden files and folders are ignored. Two files with the same name would share one key in
    the index, so the second is skipped with a reason. In a folder, a link to a file outside it
    is skipped with a reason, and so is every file of the app's own data under ``app_home``
    (see :func:`is_app_data`), however it is reached.
    """
    found = Discovery()
    seen: dict[str, Path] = {}
    manifests: dict[Path, dict[str, dict]] = {}

    def manifest_for(folder: Path) -> dict[str, dict]:
        if folder not in manifests:
            try:
                manifests[folder] = read_manifest(folder)
            except ValueError as exc:
                found.skipped.append((folder / MANIFEST_NAME, str(exc)))
                manifests[folder] = {}
        return manifests[folder]

    def consider(path: Path, explicit: bool) -> None:
        if path.name == MANIFEST_NAME:
            return
        if not is_supported(path):
            if explicit:
                found.skipped.append((path, f"unsupported file type '{path.suffix or '(none)'}'"))
            return
        if is_app_data(path, app_home):
            found.skipped.append((path, "this is the assistant's own data, which is never indexed"))
            return
        resolved = path.resolve()  # a link is indexed under its file's name
        previous = seen.get(resolved.name)
        if previous is not None:
            if previous != resolved:
                found.skipped.append((path, f"another file named {resolved.name} is already included ({previous})"))
            return
        seen[resolved.name] = resolved
        in_uploads = app_home is not None and path.resolve().is_relative_to(app_home.resolve() / UPLOADS_FOLDER)
        found.documents.append(describe(path, manifest_for(path.parent), in_uploads))

    for given in paths:
        given = Path(given).expanduser()
        if given.is_dir():
            inside = given.resolve()
            for path in sorted(given.rglob("*")):
                relative = path.relative_to(given).parts
                if any(part.startswith(".") for part in relative) or not path.is_file():
                    continue
                if is_supported(path) and not path.resolve().is_relative_to(inside):
                    found.skipped.append((path, f"a link to {path.resolve()}, outside the folder being indexed"))
                    continue
                consider(path, explicit=False)
        elif given.is_file():
            consider(given, explicit=True)
        else:
            found.skipped.append((given, "no such file or folder"))
    return found
