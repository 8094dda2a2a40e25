"""The web app: the page (``build_app``), and serving it (``serve``): warm-up, finishing the
documents an interrupted upload left, the sign-in page, and the guard against other sites' pages."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from assistant.answerers import FALLBACK
from assistant.config import Settings
from assistant.engine import Assistant
from assistant.feedback import FeedbackStore, feedback_path
from assistant.signin import SignIn, SignInLimiter
from assistant.ui.chat import chat_tab
from assistant.ui.documents import documents_tab
from assistant.ui.drafting import faq_tab
from assistant.ui.feedback import feedback_tab
from assistant.ui.services import APP_TITLE, EXAMPLES, LOG, PRIVATE, Services, bind, plural
from assistant.ui.style import CSS, md, theme
from assistant.web_guard import SessionTokens, SignInGuard, allowed_hosts, cross_site_lifespan, install_outermost


def build_app(assistant: Assistant, settings: Settings, sign_in: bool = False) -> gr.Blocks:
    """The whole UI. ``sign_in``: whether serve() puts a sign-in page in front of it."""
    services = Services(assistant, settings, FeedbackStore(feedback_path(settings)), sign_in)
    # files made for download are copied into Gradio's cache: forget them after a day
    with gr.Blocks(title=APP_TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.HTML(
            f'<div id="icb-header"><h1>{APP_TITLE}</h1><p>Answers from NHS Lancashire and South Cumbria ICB '
            "strategy documents, with the sources to check them against.</p></div>",
            padding=False,
            js_on_load=None,
        )
        signed_in = gr.Markdown("", visible=False, elem_id="icb-signed-in")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                filters = chat_tab(services)
            with gr.Tab("FAQ drafting", id="faq"):
                faq_tab(services)
            with gr.Tab("Documents", id="documents"):
                documents_hook = documents_tab(services, filters)
            with gr.Tab("Feedback", id="feedback"):
                feedback_hook = feedback_tab(services)
        demo.load(bind(who, services), None, signed_in, **PRIVATE)
        for hook, outputs in (documents_hook, feedback_hook):
            demo.load(hook, None, outputs, **PRIVATE)
    demo.services = services  # serve() closes them; tests look inside
    return demo


def who(services: Services, request: gr.Request):
    """The "Signed in as" line, with sign-in."""
    name = services.user(request)
    if not services.sign_in or not name:
        return gr.update(visible=False)
    return gr.update(value=f"Signed in as **{md(name)}** · [Sign out](/logout)", visible=True)


def warm_up(assistant: Assistant, log: Callable[[str], None]) -> None:
    """Load the search models and start the local model now, so the first question does not wait."""
    started = time.perf_counter()
    try:  # the embedding model, vector store, keyword index, tokenizer and caches, before anyone asks
        assistant.ask(EXAMPLES[0], backend=FALLBACK)
        log(f"Search is ready ({time.perf_counter() - started:.1f} s).")
    except Exception as exc:
        log(f"Search warm-up failed ({exc.__class__.__name__}: {exc}).")
    if not assistant.answerer.starts_model:
        return
    started = time.perf_counter()
    try:
        assistant.start_model()
        log(f"The local model is ready ({time.perf_counter() - started:.0f} s).")
    except Exception as exc:  # the first question will try again and fall back to extractive with a notice
        log(f"The local model did not start ({exc.__class__.__name__}: {exc}); answers fall back to quotations.")


def finish_interrupted(services: Services, log: Callable[[str], None]) -> None:
    """Finish the documents an interrupted upload (or a killed index run) left half-written: run at
    start-up in the background, under the lock uploads take, never inside someone's request. While
    it runs the Documents tab says so."""

    def progress(step: int, total: int, doc: str | None) -> None:
        if doc is None:
            return
        what = f"Finishing {plural(total, 'document')} left by an interrupted upload"
        if step == 0:
            log(what + "…")
        services.indexing_note = f"{what} ({step} of {total} done)…"

    with services.index_lock:
        try:
            report = services.assistant.indexer.finish_pending(progress)
        except Exception as exc:  # the index is still usable; the next `icb-assistant index` finishes them
            LOG.exception("finishing interrupted indexing failed")
            log(f"Could not finish the interrupted upload ({exc.__class__.__name__}: {exc}).")
            return
        finally:
            services.indexing_note = ""
    if report.indexed or report.removed or report.failed:
        failed = "".join(f"; could not index {Path(path).name}: {reason}" for path, reason in report.failed)
        log(f"Finished the interrupted upload: {plural(len(report.indexed), 'document')} indexed, "
            f"{len(report.removed)} removed{failed}.")


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    backend: str | None = None,
    users: dict[str, str] | None = None,
    log: Callable[..., None] = print,
) -> None:
    """Run the web UI until interrupted (what `icb-assistant ui` does). Never shares a public link.
    Any ``users`` (from the settings) put the sign-in page in front of it (see ``sign_in_options``)."""
    host = host or settings.ui_host
    port = port or settings.ui_port
    assistant = Assistant(settings, backend=backend)
    threading.Thread(target=warm_up, args=(assistant, log), daemon=True, name="warm-up").start()
    demo = build_app(assistant, settings, sign_in=bool(users))
    threading.Thread(target=finish_interrupted, args=(demo.services, log), daemon=True, name="finish-pending").start()
    demo.queue(default_concurrency_limit=2)
    shown = f"[{host}]" if ":" in host else host
    if threading.current_thread() is threading.main_thread():  # `kill` stops the app as Ctrl-C does, tidying up
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    log(f"ICB Strategy Assistant: open http://{shown}:{port} in your browser "
        f"({assistant.backend} answers{', sign-in on' if users else ''}). Ctrl-C stops it.")
    sessions, options = sign_in_options(demo.services, log) if users else (None, {})
    # sign-in or not, other sites' pages are refused, outside Gradio's own layers (see web_guard)
    # and so is a request for a host name the app does not answer to (DNS rebinding)
    hosts = allowed_hosts(host, settings.ui_allowed_hosts, sign_in=bool(users))
    options.setdefault("app_kwargs", {})["lifespan"] = cross_site_lifespan(log, hosts)
    try:
        demo.launch(
            server_name=host,
            server_port=port,
            share=False,
            inbrowser=False,
            show_error=False,
            quiet=True,
            footer_links=[],
            max_file_size="200mb",
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
            enable_monitoring=False,
            theme=theme(),
            css=CSS,
            prevent_thread_lock=True,
            num_workers=0,  # no static-file workers (GRADIO_NUM_WORKERS): they would serve outside the guard
            **options,
        )
        install_outermost(demo.server_app, log, hosts)  # already there from the lifespan; never serve without it
        if sessions is not None:
            demo.server_app.tokens = sessions  # Gradio's table of sign-in tokens, now with a lifetime
        demo.block_thread()
    finally:
        demo.services.feedback.close()
        shutil.rmtree(demo.services.exports_dir, ignore_errors=True)
        assistant.close()


def sign_in_options(services: Services, log: Callable[..., None]) -> tuple[SessionTokens, dict]:
    """Gradio's sign-in page checked against the users file as it is now, with wrong passwords
    limited (``signin``), sessions that expire, same-site sign-in only and each user's page state
    their own (``web_guard``)."""
    settings = services.settings
    limiter = SignInLimiter.from_settings(settings)
    check = SignIn(services.accounts, limiter, services.audit, log).check
    sessions = SessionTokens.from_settings(services.accounts, settings)
    message = (f"Sign in with the user name and password you were given. After "
               f"{settings.ui_signin_max_failures} wrong passwords a user name is locked for "
               f"{settings.ui_signin_lockout_minutes:g} minutes.")
    guard = Middleware(SignInGuard, sessions=sessions, log=log)
    return sessions, {"auth": check, "auth_message": message, "app_kwargs": {"middleware": [guard]}}
