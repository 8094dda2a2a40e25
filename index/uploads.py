"""The web app's uploads folder (``<home>/uploads``): saving uploads into it under safe names, its
manifest, and publishing and removing documents. Plain arguments (folders, paths, the user): no UI.

The folder's ``manifest.json`` holds one entry per upload: what the uploader said about it (title,
date, kind) and its provenance (``origin``, ``owner``, ``uploaded_at``, ``published_by``,
``published_at``), so indexing the folder again (a rebuild) keeps who may see each upload.
An upload is seen only by its uploader until an administrator publishes it; then it is official.
Users may remove their own unpublished uploads; administrators may remove any document.

The manifest is the durable record, so it is never lost or overwritten blind: every change to it
is a read-modify-write under an inter-process lock (``flock`` on ``.manifest.json.lock`` beside
it), written to a temporary file, flushed to disk and renamed over it; a manifest that cannot be
read is never overwritten (ManifestError: nothing is changed). Publish and remove change the
manifest first, then the index, and undo the manifest when the index cannot be changed (all under
the lock). A new upload's free name is chosen and claimed under the lock, so two uploads of one
name never overwrite each other.

A user's replacement of their own upload waits in a hidden folder (``.replacing-*``, held with a
``flock`` while its upload runs) until it has indexed; the earlier file and its entry stay as they
were until then. Any failure gives the catalogue back the earlier version; so does :func:`repair`
after a crash (run before finishing interrupted indexing, at start-up and by `icb-assistant index`),
so a replacement that never took its place is never indexed. A replacement whose document was
published or removed meanwhile is dropped: a publication or a removal is never undone.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any
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
NOT_SAVED = "not saved"  # why a file was refused: it could not be saved (``Received.reason`` says why)
LOCK_NAME = f".{MANIFEST_NAME}.lock"  # beside the manifest: held around every change to it
STAGING_PREFIX = ".replacing-"  # a hidden folder holding a replacement until it has indexed
REMOVING_PREFIX = ".removing-"  # a file being removed, moved aside until the index has let it go
HOLD_NAME = ".held"  # in a staging folder: flock-ed while the upload that made it runs


class UploadError(ValueError):
    """An action on a document that is refused; the message says why."""


class ManifestError(UploadError):
    """The uploads folder's manifest could not be read or written; nothing was changed."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def manifest_path(folder: Path) -> Path:
    return folder / MANIFEST_NAME


def damaged(folder: Path, detail: str) -> ManifestError:
    return ManifestError(
        f"the uploads record {manifest_path(folder)} is damaged ({detail}), so nothing was changed. An "
        "administrator can repair it (a JSON list of entries, each with a \"file\") or restore it from a backup; "
        "then try again."
    )


def read_manifest_entries(folder: Path) -> list[dict]:
    """The manifest's entries, for changing them: [] when there is no manifest yet; ManifestError
    when it cannot be read or is not a list of entries each with a "file" (it is never overwritten then)."""
    path = manifest_path(folder)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise damaged(folder, f"it cannot be read: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise damaged(folder, f"not valid JSON: {exc}") from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("file"), str)
                                                for e in entries):
        raise damaged(folder, "not a list of entries each with a \"file\"")
    return entries


def manifest_entries(folder: Path) -> list[dict]:
    """The manifest's entries, for showing them: what can be read, even of a damaged one (every
    whole entry), [] when there is none. Changes go through :func:`read_manifest_entries`, which
    refuses a damaged manifest."""
    try:
        text = manifest_path(folder).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    try:
        entries = json.loads(text)
    except ValueError:
        return salvage(text)
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def salvage(text: str) -> list[dict]:
    """The whole ``{...}`` entries with a "file" that can be read from a damaged manifest's text."""
    decoder = json.JSONDecoder()
    entries: list[dict] = []
    at = text.find("[") + 1
    while at > 0:
        start = text.find("{", at)
        if start < 0:
            break
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            at = start + 1
            continue
        if isinstance(value, dict) and isinstance(value.get("file"), str):
            entries.append(value)
        at = end
    return entries


_held = threading.local()  # the manifest locks this thread holds (a nested hold does not lock again)


@contextmanager
def manifest_lock(folder: Path) -> Iterator[None]:
    """Hold the uploads folder's lock (``flock`` on a file beside the manifest): one read-modify-write
    of the manifest at a time, across threads and processes (the web app, `icb-assistant publish`...)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = str(folder.resolve())
    held = getattr(_held, "folders", None)
    if held is None:
        held = _held.folders = set()
    if key in held:
        yield
        return
    with open(folder / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_manifest(folder: Path, entries: list[dict]) -> None:
    """Replace the manifest whole: written to a temporary file beside it, flushed to disk, then
    renamed over it, so it is the old one or the new one, never half-written. Call it holding
    :func:`manifest_lock`. An OSError (a full disk) leaves the old manifest as it was."""
    path = manifest_path(folder)
    handle, partial = tempfile.mkstemp(prefix=f".{MANIFEST_NAME}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(entries, indent=1, ensure_ascii=False))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    try:  # the rename itself survives a power cut once the folder is flushed
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError:
        pass


def catalogue_error(exc: sqlite3.Error, what: str) -> UploadError:
    return UploadError(f"the index catalogue could not be written ({exc}), so {what}. Try again in a moment.")


def not_written(folder: Path, exc: OSError) -> ManifestError:
    return ManifestError(f"the uploads record {manifest_path(folder)} could not be written "
                         f"({exc.strerror or exc}), so nothing was changed.")


def change_manifest(folder: Path, change: Callable[[list[dict]], list[dict] | None]) -> list[dict]:
    """Read the manifest, ``change`` its entries (it returns the new list, or None to leave it), and
    write it back, all under the lock. Returns the entries as they were. ManifestError, with the
    manifest as it was, when it cannot be read (never overwritten then) or written."""
    with manifest_lock(folder):
        before = read_manifest_entries(folder)
        after = change([dict(entry) for entry in before])
        if after is not None:
            try:
                write_manifest(folder, after)
            except OSError as exc:
                raise not_written(folder, exc) from exc
        return before


def manifest_entry(name: str, title: str, when: str, kind: str, provenance: Provenance) -> dict:
    """What the uploader said about a file, and who uploaded it when."""
    entry = {"file": name, "kind": kind.strip() or "uploaded"}
    if title.strip():
        entry["title"] = title.strip()
    if when.strip():
        entry["date"] = when.strip()
    entry.update(dataclasses.asdict(provenance))
    return entry


def put_entry(folder: Path, entry: dict) -> list[dict]:
    """Record ``entry`` in the manifest, replacing any of its file; returns the entries as they were."""
    return change_manifest(folder, lambda entries: [e for e in entries if e.get("file") != entry["file"]] + [entry])


def add_to_manifest(folder: Path, name: str, title: str, when: str, kind: str, provenance: Provenance) -> None:
    """Record what the uploader said about a file, and who uploaded it when."""
    put_entry(folder, manifest_entry(name, title, when, kind, provenance))


def remove_from_manifest(folder: Path, name: str) -> list[dict]:
    """Drop the file's entry; returns the entries as they were."""
    def drop(entries: list[dict]) -> list[dict] | None:
        kept = [e for e in entries if e.get("file") != name]
        return kept if len(kept) != len(entries) else None

    return change_manifest(folder, drop)


def restore_entry(folder: Path, name: str, before: list[dict]) -> None:
    """Best effort, after a later step failed: put ``name``'s entry back as it was in ``before``."""
    old = [e for e in before if e.get("file") == name]
    try:
        change_manifest(folder, lambda entries: [e for e in entries if e.get("file") != name] + old)
    except UploadError:
        pass


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
    """Make an upload official (visible to everyone): in the manifest first (the durable record, which a
    rebuild reads), then the catalogue. UploadError, with both as they were, when either cannot be written."""
    record = indexer.catalog.document(doc)
    if record is None:
        raise UploadError(f"{doc} is not in the index.")
    if record.provenance.official:
        raise UploadError(f"{doc} is already official.")
    provenance = dataclasses.replace(record.provenance, origin="official", published_by=by, published_at=now())
    upload = is_upload(record, folder)

    def mark(entries: list[dict]) -> list[dict] | None:
        found = False
        for entry in entries:
            if entry.get("file") == doc:
                entry.update(dataclasses.asdict(provenance))
                found = True
        if not found and upload:  # its entry was lost: the manifest must say it is official now
            entries.append({"file": doc, **dataclasses.asdict(provenance)})
            found = True
        return entries if found else None

    if not (upload or folder.is_dir()):
        try:
            indexer.catalog.set_provenance(doc, provenance)
        except sqlite3.Error as exc:
            raise catalogue_error(exc, f"{doc} was not published") from exc
        return indexer.catalog.document(doc)
    with manifest_lock(folder):  # a replacement being committed sees both changes or neither
        before = change_manifest(folder, mark)
        try:
            indexer.catalog.set_provenance(doc, provenance)
        except sqlite3.Error as exc:
            restore_entry(folder, doc, before)
            raise catalogue_error(exc, f"{doc} was not published") from exc
    return indexer.catalog.document(doc)


def remove(indexer: Indexer, folder: Path, doc: str) -> DocumentRecord:
    """Remove a document from the index; an upload's file and manifest entry go too (a file from
    elsewhere stays where it is). Returns what was removed.

    The manifest is changed first, then the file is moved aside (hidden), then the index, all under
    the manifest lock; when a step fails the earlier ones are undone (UploadError, or VectorStoreError
    when the document store is down) and the document stays as it was. Only then is the file
    deleted. An upload whose replacement is being indexed is removed too (its replacement is then
    dropped)."""
    record = indexer.catalog.document(doc)
    if record is None:
        raise UploadError(f"{doc} is not in the index.")
    if not is_upload(record, folder):
        try:
            indexer.remove(doc)
        except sqlite3.Error as exc:
            raise catalogue_error(exc, f"{doc} was not removed") from exc
        return record
    path = folder / doc  # the committed file, even while a replacement waits in a staging folder
    aside = folder / f"{REMOVING_PREFIX}{doc}"
    with manifest_lock(folder):
        before = remove_from_manifest(folder, doc)
        try:
            moved = path.exists()
            if moved:
                os.replace(path, aside)
        except OSError as exc:
            restore_entry(folder, doc, before)
            raise UploadError(f"{doc} could not be removed ({exc.strerror or exc}); nothing was changed.") from exc
        try:
            indexer.remove(doc)
        except BaseException as exc:
            if moved:
                try:
                    os.replace(aside, path)
                except OSError:
                    pass
            restore_entry(folder, doc, before)
            if isinstance(exc, sqlite3.Error):
                raise catalogue_error(exc, f"{doc} was not removed; it is as it was") from exc
            raise
        aside.unlink(missing_ok=True)
    return record


def in_staging(path: str | Path, home: Path) -> bool:
    """Whether ``path`` is in one of the staging folders of the uploads folder ``home`` (resolved)."""
    parent = Path(path).parent.resolve()
    return parent.parent == home and parent.name.startswith(STAGING_PREFIX)


def is_upload(record: DocumentRecord, folder: Path) -> bool:
    """Whether the document's file is in the uploads folder (or is a replacement of an upload, waiting
    in one of its staging folders)."""
    home = folder.resolve()
    return Path(record.path).parent.resolve() == home or in_staging(record.path, home)


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
    refused: str = ""  # UNSUPPORTED, NAME_INDEXED or NOT_SAVED; "" when saved
    clash: DocumentRecord | None = None  # for NAME_INDEXED: the indexed document with its name
    reason: str = ""  # for NOT_SAVED: why
    staged: str = ""  # when it replaces the user's own upload of its name: where it waits until it has indexed
    earlier_entry: dict | None = None  # for a replacement: the manifest entry it replaces, as it was when staged
    hold: IO[Any] | None = field(default=None, repr=False, compare=False)  # the staging folder's flock, while held


def save(folder: Path, paths: list[str], indexed: dict[str, DocumentRecord], user: str, title: str, when: str,
         kind: str) -> list[Received]:
    """Save received files into the uploads folder under safe names, each with its manifest entry
    (``title``, ``when``, ``kind``, and that ``user`` uploaded it now). ``indexed``: the documents in
    the index, by name.

    A file of a type not in UPLOAD_TYPES, or named like an indexed document from elsewhere, is
    refused. A name already taken (by an earlier file of this upload, another user's upload, a
    published one, or any file in the folder) gets the first free one, ``report-2.pdf``,
    ``report-3.pdf``..., chosen and claimed under the manifest lock (so two uploads at once never
    get one name): only the user's own unpublished upload of that name is replaced, and not
    yet: the new version waits in a hidden folder with its own manifest (``staged``) until
    :func:`index_saved` has indexed it; the earlier file and its manifest entry stay as they were
    until then. A file that cannot be saved (its manifest damaged, a full disk) is refused as
    NOT_SAVED, with nothing of it kept."""
    folder.mkdir(parents=True, exist_ok=True)
    taken = set(indexed)  # with the folder's files, looked at again under the lock for each file
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
        replaces = may_replace(known, user) and all(r.name != name for r in received if not r.refused)
        wanted = ""
        entry = manifest_entry(name, title, when, kind, Provenance("uploaded", user, now()))
        try:
            data = Path(path).read_bytes()
            if replaces:
                staged, earlier, hold = stage(folder, name, data, entry)
                received.append(Received(path, name, staged=str(staged), earlier_entry=earlier, hold=hold))
            else:
                saved_as = save_new(folder, name, data, entry, taken)
                if saved_as != name:
                    wanted, name = name, saved_as
                received.append(Received(path, name, wanted))
        except (OSError, UploadError) as exc:
            reason = str(exc) if isinstance(exc, UploadError) else f"it could not be saved ({exc.strerror or exc})"
            received.append(Received(path, name, wanted, refused=NOT_SAVED, reason=reason))
            continue
        taken.add(name)
    return received


def save_new(folder: Path, name: str, data: bytes, entry: dict, taken: set[str]) -> str:
    """Write a new upload and its manifest entry under ``name`` or, when that is taken (in ``taken``,
    in the folder or in the manifest), the first free name; returns the name. The name is chosen and
    claimed (the file created, failing if it exists) under the manifest lock, so another upload at
    the same time, in this process or another, cannot choose it too. On failure neither is kept."""
    with manifest_lock(folder):
        in_use = set(taken) | {p.name for p in folder.iterdir()} | {e["file"] for e in read_manifest_entries(folder)}
        chosen = free_name(name, in_use)
        target = folder / chosen
        with open(target, "xb") as out:  # claimed: never another upload's file
            try:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
                entry["file"] = chosen
                put_entry(folder, entry)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
    return chosen


def hold_folder(staging: Path) -> IO[Any]:
    """Hold a staging folder (an exclusive ``flock`` on a file in it) while its upload runs: :func:`repair`
    leaves a held folder alone. The hold ends when the handle is closed, or its process ends."""
    handle = open(staging / HOLD_NAME, "a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        handle.close()
        raise
    return handle


def is_held(staging: Path) -> bool:
    """Whether a live upload (in any process) holds this staging folder."""
    try:
        handle = open(staging / HOLD_NAME, "rb")
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def release(item: Received) -> None:
    if item.hold is not None:
        item.hold.close()
        item.hold = None


def stage(folder: Path, name: str, data: bytes, entry: dict) -> tuple[Path, dict | None, IO[Any]]:
    """Put a replacement in a hidden folder of the uploads folder, with a manifest of its own holding
    ``entry`` (so indexing it gives it its title and provenance). Returns its path, the manifest
    entry it is to replace as it is now, and the hold on its folder. ManifestError when the
    uploads folder's manifest is damaged (refused now, not after indexing)."""
    with manifest_lock(folder):  # repair() looks for staging folders under the lock: this one is held first
        earlier = next((e for e in read_manifest_entries(folder) if e.get("file") == name), None)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
        try:
            hold = hold_folder(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    try:
        (staging / name).write_bytes(data)
        write_manifest(staging, [entry])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        hold.close()
        raise
    return staging / name, earlier, hold


class Superseded(UploadError):
    """A replacement's document was published, removed or otherwise changed while it was indexing."""


def removed_meanwhile(name: str) -> str:
    return f"{name} was removed while your new version was being indexed, so your new version was not kept either"


def index_saved(indexer: Indexer, folder: Path, saved: list[Received], indexed: dict[str, DocumentRecord],
                progress: Callable[[int, int, str | None], None] | None = None) -> IndexReport:
    """Index the saved uploads, and only them (not the documents another run left pending). A new
    file that cannot be indexed goes again, with its manifest entry; a replacement that cannot be
    indexed goes, and the earlier version stays (its file, manifest entry and index entry as they
    were). A replacement that has indexed takes the earlier one's place: manifest entry, then file;
    unless its document was published, removed or changed meanwhile: then it is dropped (reported
    as failed) and the document stays as that change left it.
    When indexing stops with an exception (the document store down, a locked catalogue, anything),
    every newly named file goes and every replacement is undone before it is raised: nothing is
    half-added. A catalogue error (sqlite3.Error) is raised as UploadError, VectorStoreError as itself.
    ``indexed``: the documents in the index before the files were saved, by name."""
    targets = [Path(item.staged) if item.staged else folder / item.name for item in saved]
    left = list(saved)  # not yet settled: undone if an exception stops this
    try:
        report = indexer.run(targets, progress=progress, prune=False, finish_pending=False)
        failed = {Path(path).name for path, _ in report.failed}
        while left:
            item = left[0]
            if item.name in failed:
                if item.staged:
                    unstage(indexer, folder, item, indexed.get(item.name))
                else:
                    discard(folder, item.name)
            elif item.staged:
                try:
                    commit(indexer, folder, item)
                except (OSError, UploadError, sqlite3.Error) as exc:
                    unstage(indexer, folder, item, indexed.get(item.name))
                    reason = (str(exc) if isinstance(exc, UploadError) else
                              f"the index catalogue could not be written ({exc})" if isinstance(exc, sqlite3.Error)
                              else f"it could not be saved ({exc.strerror or exc})")
                    report.indexed = [doc for doc in report.indexed if doc != item.name]
                    report.skipped = [doc for doc in report.skipped if doc != item.name]
                    report.failed.append((str(folder / item.name), reason))
            left.pop(0)
    except BaseException as exc:
        removed = []
        for item in left:
            if item.staged:
                if unstage(indexer, folder, item, indexed.get(item.name)):
                    removed.append(item.name)
            elif item.name not in indexed:
                discard(folder, item.name, indexer)
        if removed and isinstance(exc, sqlite3.Error):  # the catalogue refused a document removed meanwhile
            raise Superseded("; ".join(removed_meanwhile(name) for name in removed) +
                             ("; nothing else was added." if len(left) > 1 else ".")) from exc
        if isinstance(exc, sqlite3.Error):
            kept = ", ".join(item.name for item in left if item.staged)
            raise UploadError(f"the index catalogue could not be written ({exc}), so nothing was changed"
                              f"{f' (your earlier {kept} is kept as it was)' if kept else ''}. "
                              "Try again in a moment.") from exc
        raise
    finally:
        for item in saved:
            release(item)
    return report


def commit(indexer: Indexer, folder: Path, item: Received) -> None:
    """A replacement has indexed: its manifest entry replaces the earlier one, then its file the
    earlier file, and the catalogue is told where it now lives, all under the manifest lock. If the
    document was published, removed or otherwise changed since the replacement was staged,
    Superseded: nothing is changed (:func:`unstage` then gives the catalogue back the document as
    that change left it). On failure the manifest is as it was."""
    staged = Path(item.staged)
    entry = next(e for e in read_manifest_entries(staged.parent) if e.get("file") == item.name)
    target = folder / item.name
    with manifest_lock(folder):
        current = next((e for e in read_manifest_entries(folder) if e.get("file") == item.name), None)
        if indexer.catalog.document(item.name) is None or not target.exists():
            raise Superseded(removed_meanwhile(item.name))
        if current != item.earlier_entry:
            official = str(current.get("origin")) == "official"
            raise Superseded(f"{item.name} was {'published' if official else 'changed'} by someone else while your "
                             f"new version was being indexed, so your new version was not kept: {item.name} stays "
                             f"as {'it was published' if official else 'they left it'}")
        before = put_entry(folder, entry)
        try:
            os.replace(staged, target)
        except OSError:
            restore_entry(folder, item.name, before)
            raise
        try:
            indexer.catalog.set_path(item.name, target)
        except sqlite3.Error:  # committed all the same: repair() points the record at it at the next start
            pass
    shutil.rmtree(staged.parent, ignore_errors=True)
    release(item)


def unstage(indexer: Indexer, folder: Path, item: Received, earlier: DocumentRecord | None) -> bool:
    """Drop a replacement that did not index (or could not take its place), and give the catalogue
    back the committed version if indexing touched it: its file and manifest entry were never
    changed by the replacement (a publication or removal meanwhile is kept). Never raises; True
    when the document was removed meanwhile."""
    staged = Path(item.staged)
    removed = False
    try:
        record = indexer.catalog.document(item.name)
        if record is None:  # removed meanwhile: drop any vectors the replacement added after that
            removed = earlier is not None
            indexer.vectors.delete_document(item.name)
        elif record != earlier:
            target = folder / item.name
            indexer.catalog.set_path(item.name, target)  # redone from the committed file and its entry...
            indexer.catalog.mark_pending(item.name)  # ...now, or at the next start if this fails
            indexer.run([target], prune=False, finish_pending=False)
    except Exception:  # noqa: BLE001 -- the record points at the committed file: start-up finishes it
        pass
    finally:
        shutil.rmtree(staged.parent, ignore_errors=True)
        release(item)
    return removed


def discard(folder: Path, name: str, indexer: Indexer | None = None) -> None:
    """Delete a new upload's file and its manifest entry, and (given ``indexer``) its index entry if
    it got one (best effort: an entry without its file is harmless)."""
    (folder / name).unlink(missing_ok=True)
    try:
        remove_from_manifest(folder, name)
    except UploadError:
        pass
    if indexer is not None:
        try:
            record = indexer.catalog.document(name)
            if record is not None and is_upload(record, folder):
                indexer.remove(name)
        except Exception:  # noqa: BLE001 -- a record whose file is gone is dropped by the next run
            pass


def repair(indexer: Indexer, folder: Path) -> None:
    """After a crash: what an upload, replacement or removal killed midway left in the uploads folder.
    Run before interrupted indexing is finished (at start-up and by `icb-assistant index`), under the
    manifest lock. The committed version is the one the uploads folder and its manifest hold:

    - a catalogue record that points into a staging folder (a replacement that never took its
      place, or took it but was not yet recorded) is pointed back at ``uploads/<name>`` and marked
      pending, and the committed file is indexed again with its manifest entry (or the record
      dropped if it has gone; if indexing fails the record stays pending, for the next run);
    - staging folders no live upload holds are deleted;
    - a ``.removing-<name>`` file is a removal the manifest already records: it is deleted and the
      document removed from the index (or put back, should its entry be there and its file not)."""
    if not folder.is_dir():
        return
    home = folder.resolve()
    redo: list[str] = []
    with manifest_lock(folder):
        live = set()
        for staging in folder.glob(f"{STAGING_PREFIX}*"):
            if not staging.is_dir():
                continue
            if is_held(staging):
                live.add(staging.name)
            else:
                shutil.rmtree(staging, ignore_errors=True)
        for record in indexer.catalog.documents():
            path = Path(record.path)
            if (in_staging(path, home) and path.parent.resolve().name not in live) or (
                    path.parent.resolve() == home and path.name.startswith(REMOVING_PREFIX)):
                indexer.catalog.set_path(record.doc, folder / record.doc)
                indexer.catalog.mark_pending(record.doc)
                redo.append(record.doc)
        names = {e["file"] for e in manifest_entries(folder) if isinstance(e.get("file"), str)}
        for aside in folder.glob(f"{REMOVING_PREFIX}*"):
            name = aside.name[len(REMOVING_PREFIX):]
            target = folder / name
            if name in names and not target.exists():
                os.replace(aside, target)
                continue
            aside.unlink(missing_ok=True)
            record = indexer.catalog.document(name)
            if record is not None and is_upload(record, folder) and not target.exists():
                indexer.remove(name)
    for doc in redo:  # outside the lock: uploads may go on meanwhile
        target = folder / doc
        if not target.is_file():
            indexer.remove(doc)
            continue
        try:  # the committed file with its manifest entry (a pending record would be redone with the replacement's)
            indexer.run([target], prune=False, finish_pending=False)
        except Exception:  # noqa: BLE001 -- still pending, at the committed file: the run that called this redoes it
            pass
