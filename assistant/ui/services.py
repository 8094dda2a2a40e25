"""What the web app's handlers share: the ``Services`` (the assistant, feedback store, folders and
sign-in state), who may see which documents, and ``bind``, which hands a handler to Gradio."""

from __future__ import annotations

import atexit
import functools
import inspect
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from assistant.audit import AuditLog, audit_path
from assistant.auth import UserDirectory
from assistant.config import Settings
from assistant.engine import Assistant
from assistant.feedback import FeedbackStore
from index.catalog import DocumentRecord

LOG = logging.getLogger("icb_assistant.ui")
APP_TITLE = "ICB Strategy Assistant"
EXAMPLES = [
    "What are the urgent and emergency care priorities for 2025/26?",
    "What is the ICB's financial position?",
    "What will change for community services by 2030?",
    "What are the plans for cancer services?",
]
PRIVATE = {"api_visibility": "private"}  # every event is for this page only: none is a public API endpoint


@dataclass
class Services:
    """What the handlers share: the assistant, feedback store, folders and sign-in state."""

    assistant: Assistant
    settings: Settings
    feedback: FeedbackStore
    sign_in: bool
    exports_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="icb-assistant-exports-")))
    index_lock: threading.Lock = field(default_factory=threading.Lock)
    audit: AuditLog | None = None
    indexing_note: str = ""  # what start-up indexing is doing, shown in the Documents tab
    accounts: UserDirectory | None = None  # the users file, read again when it changes

    def __post_init__(self) -> None:
        if self.audit is None:
            self.audit = AuditLog(audit_path(self.settings))
        atexit.register(shutil.rmtree, self.exports_dir, ignore_errors=True)  # exports never outlive the app
        if self.accounts is None:
            self.accounts = UserDirectory(self.settings)

    @property
    def uploads_dir(self) -> Path:
        return self.settings.uploads_dir

    def allowed(self, request: gr.Request | None) -> bool:
        """May this request upload or export? Anyone without sign-in; signed-in users with it."""
        return (not self.sign_in) or bool(request is not None and getattr(request, "username", None))

    def user(self, request: gr.Request | None) -> str:
        return (getattr(request, "username", None) or "") if request is not None else ""

    def address(self, request: gr.Request | None) -> str:
        """The client's address, for the audit log ("" when unknown)."""
        client = getattr(request, "client", None) if request is not None else None
        return str(getattr(client, "host", "") or "")

    def is_admin(self, request: gr.Request | None) -> bool:
        """May this request publish documents and remove anyone's? Without sign-in the app has one
        (local) user, who is its administrator; with sign-in, users marked ``admin`` in the users file."""
        if not self.sign_in:
            return True
        name = self.user(request)
        account = self.accounts.get(name) if name else None
        return bool(account is not None and account.admin)


def bind(handler: Callable, services: Services) -> Callable:
    """``handler`` with ``services`` as its first argument, as Gradio must see it: under the handler's
    name, with its other parameters and their type hints (by which Gradio passes gr.Request,
    gr.EventData and gr.Progress), and still a generator function when it streams.
    (functools.partial hides the type hints from Gradio.)"""
    if inspect.isgeneratorfunction(handler):
        def bound(*args, **kwargs):
            yield from handler(services, *args, **kwargs)
    else:
        def bound(*args, **kwargs):
            return handler(services, *args, **kwargs)
    functools.update_wrapper(bound, handler)
    signature = inspect.signature(handler)
    first, *rest = signature.parameters.values()
    bound.__signature__ = signature.replace(parameters=rest)
    bound.__annotations__ = {name: hint for name, hint in handler.__annotations__.items() if name != first.name}
    return bound


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def official_records(assistant: Assistant) -> list[DocumentRecord]:
    """The complete official documents: what every user sees (the page's first state, before it loads)."""
    return [r for r in assistant.indexer.catalog.documents() if r.state == "complete" and r.provenance.official]


def searchable_records(services: Services, request: gr.Request | None) -> list[DocumentRecord]:
    """The complete documents this request's questions may use: official ones and the user's own uploads."""
    user = services.user(request)
    return [r for r in services.assistant.indexer.catalog.documents()
            if r.state == "complete" and r.provenance.visible_to(user)]


def listed_records(services: Services, request: gr.Request | None) -> list[DocumentRecord]:
    """The documents the Documents tab lists: every one for an administrator (to review, publish or
    remove), else the ones this user's questions may use."""
    if services.is_admin(request):
        return [r for r in services.assistant.indexer.catalog.documents() if r.state == "complete"]
    return searchable_records(services, request)
