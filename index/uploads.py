"""The web app's uploads folder (``<home>/uploads``): saving uploads into it under safe names, its
manifest, and publishing and removing documents. Plain arguments (folders, paths, the user): no UI.

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
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from index.catalog import DocumentRecord
from index.corpus import MANIFEST_NAME
from index.documents import Provenance
from index.pipeline import Indexer, IndexReport
from index.vectors import VectorStoreError

UPLOAD_TYPES = [".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"]
MAX_UPLOAD_NAME = 120
UNSUPPORTED = "unsupported"  # why a file was refused: not one of UPLOAD_TYPES
NAME_INDEXED = "name indexed"  # why a file was refused: a document from elsewhere has its name


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
    return record is not None and not record.provenance.official and record.provenance.owner == user


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


def safe_file_name(name: str) -> str:
    """A file name fit for <home>/uploads: no folders, no '..', no odd characters, extension kept."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = base.replace("..", ".").strip().strip(".")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^\w-]+", "-", stem)  # spaces and punctuation become single dashes
    stem = re.sub(r"-{2,}", "-", stem).strip("-_")[:MAX_UPLOAD_NAME] or "document"
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


@dataclass
class Received:
    """One uploaded file: saved into the uploads folder as ``name``, or refused (``refused`` says why)."""

    path: str  # the file as it was received
    name: str  # its safe name, and the name it is saved under
    wanted: str = ""  # when another document had the name it came with: that name (``name`` is then a free one)
    refused: str = ""  # UNSUPPORTED or NAME_INDEXED; "" when saved
    clash: DocumentRecord | None = None  # for NAME_INDEXED: the indexed document with its name


def save(folder: Path, paths: list[str], indexed: dict[str, DocumentRecord], user: str, title: str, when: str,
         kind: str) -> list[Received]:
    """Save received files into the uploads folder under safe names, each with its manifest entry
    (``title``, ``when``, ``kind``, and that ``user`` uploaded it now). ``indexed``: the documents in
    the index, by name.

    A file of a type not in UPLOAD_TYPES, or named like an indexed document from elsewhere, is
    refused. A name already taken (by an earlier file of this upload, another user's upload, a
    published one, or any file in the folder) gets the first free one, ``report-2.pdf``,
    ``report-3.pdf``...: only the user's own unpublished upload of that name is replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    taken = set(indexed) | {p.name for p in folder.iterdir()}
    received: list[Received] = []
    for path in paths:
        name = safe_file_name(Path(path).name)
        if Path(name).suffix.lower() not in UPLOAD_TYPES:
            received.append(Received(path, name, refused=UNSUPPORTED))
            continue
        known = indexed.get(name)
        if known is not None and not is_upload(known, folder):
            received.append(Received(path, name, refused=NAME_INDEXED, clash=known))
            continue
        wanted = ""
        if name in taken and not (may_replace(known, user) and all(r.name != name for r in received if not r.refused)):
            wanted, name = name, free_name(name, taken)
        (folder / name).write_bytes(Path(path).read_bytes())
        add_to_manifest(folder, name, title, when, kind, Provenance("uploaded", user, now()))
        received.append(Received(path, name, wanted))
        taken.add(name)
    return received


def index_saved(indexer: Indexer, folder: Path, saved: list[Received], indexed: dict[str, DocumentRecord],
                progress: Callable[[int, int, str | None], None] | None = None) -> IndexReport:
    """Index the saved uploads, and only them (not the documents another run left pending). A file
    that cannot be indexed goes again, with its manifest entry. If the document store is down,
    VectorStoreError is raised after every newly named file has gone: nothing is half-added.
    ``indexed``: the documents in the index before the files were saved, by name."""
    targets = [folder / item.name for item in saved]
    try:
        report = indexer.run(targets, progress=progress, prune=False, finish_pending=False)
    except VectorStoreError:
        for target in targets:
            if target.name not in indexed:
                discard(folder, target.name)
        raise
    failed = {Path(path).name for path, _ in report.failed}
    for target in targets:
        if target.name in failed:
            discard(folder, target.name)
    return report


def discard(folder: Path, name: str) -> None:
    """Delete an upload's file and its manifest entry."""
    (folder / name).unlink(missing_ok=True)
    remove_from_manifest(folder, name)
