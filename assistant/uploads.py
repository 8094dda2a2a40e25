"""The web app's uploads folder (``<home>/uploads``): its manifest, and publishing and removing documents.

The folder's ``manifest.json`` holds one entry per upload: what the uploader said about it (title,
date, kind) and its provenance (``origin``, ``owner``, ``uploaded_at``, ``published_by``,
``published_at``), so indexing the folder again (a rebuild) keeps who may see each upload.
An upload is seen only by its uploader until an administrator publishes it; then it is official.
Users may remove their own unpublished uploads; administrators may remove any document.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from index.catalog import DocumentRecord
from index.corpus import MANIFEST_NAME
from index.documents import Provenance
from index.pipeline import Indexer


class UploadError(ValueError):
    """An action on a document that is refused; the message says why."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def manifest_entries(folder: Path) -> list[dict]:
    """The manifest's entries; [] when there is none or it cannot be read."""
    try:
        entries = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def write_manifest(folder: Path, entries: list[dict]) -> None:
    """Replace the manifest whole (written beside it, then renamed: never half-written)."""
    path = folder / MANIFEST_NAME
    partial = path.with_name(f".{MANIFEST_NAME}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(entries, indent=1, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


def add_to_manifest(folder: Path, name: str, title: str, when: str, kind: str, provenance: Provenance) -> None:
    """Record what the uploader said about a file, and who uploaded it when."""
    entries = [e for e in manifest_entries(folder) if e.get("file") != name]
    entry = {"file": name, "kind": kind.strip() or "uploaded"}
    if title.strip():
        entry["title"] = title.strip()
    if when.strip():
        entry["date"] = when.strip()
    entry.update(dataclasses.asdict(provenance))
    entries.append(entry)
    write_manifest(folder, entries)


def remove_from_manifest(folder: Path, name: str) -> None:
    entries = manifest_entries(folder)
    kept = [e for e in entries if e.get("file") != name]
    if len(kept) != len(entries):
        write_manifest(folder, kept)


def free_name(name: str, taken: set[str]) -> str:
    """``name``, or ``stem-2.ext``, ``stem-3.ext``... : the first not in ``taken``."""
    if name not in taken:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    number = 2
    while f"{stem}-{number}{dot}{suffix}" in taken:
        number += 1
    return f"{stem}-{number}{dot}{suffix}"


def may_replace(record: DocumentRecord | None, user: str) -> bool:
    """May ``user``'s upload of the same name replace this document? Only their own unpublished upload."""
    return record is not None and not record.provenance.official and record.owner == user


def may_remove(record: DocumentRecord, user: str, admin: bool) -> bool:
    """Administrators may remove any document; a user their own unpublished uploads."""
    return admin or may_replace(record, user)


def publish(indexer: Indexer, folder: Path, doc: str, by: str) -> DocumentRecord:
    """Make an upload official (visible to everyone), in the catalogue and the manifest."""
    record = indexer.catalog.document(doc)
    if record is None:
        raise UploadError(f"{doc} is not in the index.")
    if record.provenance.official:
        raise UploadError(f"{doc} is already official.")
    provenance = dataclasses.replace(record.provenance, origin="official", published_by=by, published_at=now())
    indexer.catalog.set_provenance(doc, provenance)
    entries = manifest_entries(folder)
    for entry in entries:
        if entry.get("file") == doc:
            entry.update(dataclasses.asdict(provenance))
    if any(entry.get("file") == doc for entry in entries):
        write_manifest(folder, entries)
    return indexer.catalog.document(doc)


def remove(indexer: Indexer, folder: Path, doc: str) -> DocumentRecord:
    """Remove a document from the index; an upload's file and manifest entry go too (a file from
    elsewhere stays where it is). Returns what was removed."""
    record = indexer.catalog.document(doc)
    if record is None:
        raise UploadError(f"{doc} is not in the index.")
    indexer.remove(doc)
    if is_upload(record, folder):
        Path(record.path).unlink(missing_ok=True)
        remove_from_manifest(folder, doc)
    return record


def is_upload(record: DocumentRecord, folder: Path) -> bool:
    """Whether the document's file is in the uploads folder."""
    return Path(record.path).parent.resolve() == folder.resolve()
