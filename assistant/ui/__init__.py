"""The web UI (Gradio Blocks): chat for staff, FAQ drafting for the public engagement team,
the documents in the index, and feedback export.

    build_app(assistant, settings) -> gr.Blocks     # the app, for tests or mounting
    serve(settings, host, port)                     # what `icb-assistant ui` runs

Offline by design: no analytics, no update check, no share link, system fonts only. Everything
shown from a document, a user or a model is escaped (see ``style.md`` and ``sources_view``).

The modules: ``offline`` (set up before gradio is imported), ``style`` (CSS, theme, escaping),
``services`` (what the handlers share), one per tab (``chat``, ``drafting``, ``documents``,
``feedback``), and ``app`` (the page, serving, start-up). Each tab's handlers are module functions
that take the services first; ``services.bind`` hands them to Gradio.
"""

from assistant.ui import offline  # noqa: F401 - first: before anything imports gradio
from assistant.ui.app import build_app, serve

__all__ = ["build_app", "serve"]
