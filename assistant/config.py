"""All configuration in one typed place.

Values come from, highest priority first: environment variables (``ICB_ASSISTANT_*``),
the optional TOML config file, then the defaults below. The config file is
``$ICB_ASSISTANT_CONFIG`` if set, else ``<home>/config.toml`` if it exists.

Nothing here needs setting: the defaults run fully offline with the local embedding model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.resources import REPO_ROOT, shipped_folder

ENV_PREFIX = "ICB_ASSISTANT_"
DEFAULT_CORPUS_DIR = shipped_folder("corpus")  # in the wheel too (assistant.resources)
PROMPTS_DIR = shipped_folder("prompts")


def default_home() -> Path:
    """The per-user data folder, used when ``ICB_ASSISTANT_HOME`` is not set."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("icb-assistant", appauthor=False))


def config_file_path() -> Path:
    """Where the optional TOML config file is looked for."""
    explicit = os.environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get(ENV_PREFIX + "HOME")
    return (Path(home).expanduser() if home else default_home()) / "config.toml"


class Settings(BaseSettings):
    """Every setting of the assistant. Environment variable: ``ICB_ASSISTANT_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        validate_default=True,
    )

    # -- where things live -------------------------------------------------------------
    home: Path = Field(
        default_factory=default_home,
        description="The one folder holding the index, model caches and databases.",
    )
    corpus_dir: Path = Field(
        default=DEFAULT_CORPUS_DIR,
        description="Folder indexed when `index` is given no paths (the five ICB documents).",
    )

    # -- chunking ----------------------------------------------------------------------
    chunk_tokens: int = Field(default=220, ge=32, le=2000, description="Target chunk size in tokens (tiktoken).")
    chunk_max_tokens: int = Field(default=320, ge=48, le=4000, description="Hard ceiling for a chunk, in tokens.")
    chunk_window_tokens: int = Field(
        default=64, ge=0, le=1000,
        description="Besides each whole chunk, embed windows of about this many tokens (0: whole chunks only).",
    )
    tokenizer_encoding: Literal["cl100k_base", "o200k_base"] = "cl100k_base"

    # -- embeddings --------------------------------------------------------------------
    embedding_backend: Literal["local", "openai"] = Field(
        default="local",
        description="'local': all-MiniLM-L6-v2 int8 on onnxruntime; 'openai': an OpenAI-compatible API.",
    )
    embedding_model: str = Field(
        default="text-embedding-3-small",
        description="Model name for the 'openai' embedding backend.",
    )
    embedding_batch_size: int = Field(default=64, ge=1, le=2048, description="Texts per request to an embeddings API.")

    # -- OpenAI-compatible API (the "openai" embeddings and answerer) --------------------
    openai_api_key: SecretStr | None = Field(default=None, description="API key; also read from OPENAI_API_KEY.")
    openai_base_url: str | None = Field(default=None, description="Base URL of an OpenAI-compatible server.")
    openai_timeout_s: float = Field(default=30.0, gt=0)
    openai_max_retries: int = Field(default=2, ge=0, le=10)

    # -- Chroma ------------------------------------------------------------------------
    chroma_host: str | None = Field(
        default=None,
        description="Host of a Chroma server (`chroma run`). Unset: embedded Chroma inside <home>.",
    )
    chroma_port: int = Field(default=8000, ge=1, le=65535)
    chroma_ssl: bool = False
    collection: str = Field(default="icb_documents", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$")

    # -- search ------------------------------------------------------------------------
    search_top_k: int = Field(default=5, ge=1, le=100, description="Passages retrieved for an answer or a search.")
    dense_weight: float = Field(default=1.0, ge=0, le=10, description="Weight of the embedding ranking in the fusion.")
    keyword_weight: float = Field(default=1.0, ge=0, le=10, description="Weight of the BM25 ranking in the fusion.")
    keyword_budget: int = Field(
        default=40_000, ge=0, le=100_000_000,
        description="Chunks a keyword search scores first, for its rarest words (0: every word at once). The "
        "ranking is the same either way; in a big index the budget makes it 2-4x faster.",
    )

    # -- answering ---------------------------------------------------------------------
    backend: Literal["local", "openai", "extractive"] = Field(
        default="local",
        description="'local': the bundled Qwen2.5 1.5B model on llama.cpp; 'openai': a hosted or "
        "OpenAI-compatible model; 'extractive': no LLM, the best cited sentences.",
    )
    context_tokens: int = Field(
        default=0, ge=0, le=100_000,
        description="Token budget for the passages given to the LLM, their labels included; 0 picks one per backend "
        "(local 510, openai 3000).",
    )
    evidence_passages: int = Field(
        default=10, ge=1, le=100,
        description="Passages an LLM's evidence is drawn from: the best sentences of each, within the token budget.",
    )
    max_answer_tokens: int = Field(default=350, ge=16, le=8000)
    llm_model: str = Field(default="gpt-4o-mini", description="Chat model name for the 'openai' backend.")
    llm_timeout_s: float = Field(
        default=60.0, gt=0, le=3600,
        description="Longest wait for the LLM to start answering, and between streamed pieces; then extractive.",
    )

    # -- the local model (llama.cpp) ------------------------------------------------------
    local_model_path: Path | None = Field(
        default=None, description="A GGUF file to use instead of the bundled model."
    )
    local_port: int = Field(default=0, ge=0, le=65535, description="Port of the local model server; 0 picks a free one.")
    local_threads: int = Field(default=0, ge=0, le=256, description="CPU threads for the local model, to read the prompt and to write; 0: llama.cpp's choice (all cores read, half of them write).")
    local_context: int = Field(default=4096, ge=512, le=32768, description="Context window of the local model.")
    local_start_timeout_s: float = Field(default=180.0, gt=0)

    # -- evaluation ----------------------------------------------------------------------
    judge_model: str | None = Field(
        default=None,
        description="Chat model for the optional LLM-as-judge of `eval` (faithfulness, correctness); unset: no judge.",
    )
    judge_base_url: str | None = Field(
        default=None,
        description="Base URL of the judge's OpenAI-compatible server; unset: openai_base_url, else the OpenAI API.",
    )

    # -- web UI ----------------------------------------------------------------------------
    ui_host: str = Field(default="127.0.0.1", description="Address the web UI listens on (0.0.0.0: every interface).")
    ui_port: int = Field(default=7860, ge=1, le=65535, description="Port of the web UI.")
    ui_allowed_hosts: str = Field(
        default="",
        description="Comma-separated host names the web UI answers to (its Host header; any other is refused). "
                    "Empty: without sign-in on a loopback address, the loopback names; else any name.",
    )
    ui_users_file: Path | None = Field(
        default=None,
        description="A file of `name:hash` lines (see `add-user`). Set it (or ui_users) to require sign-in.",
    )
    ui_users: SecretStr | None = Field(
        default=None,
        description="Sign-in users as `name:hash` entries separated by commas, instead of or beside ui_users_file.",
    )
    ui_signin_max_failures: int = Field(
        default=5, ge=1, le=1000,
        description="Wrong passwords for one user name within ui_signin_window_minutes before that name is locked.",
    )
    ui_signin_address_max_failures: int = Field(
        default=20, ge=1, le=100_000,
        description="Wrong passwords from one client address (any names) within the window before it is locked.",
    )
    ui_signin_window_minutes: float = Field(
        default=15.0, gt=0, le=1440, description="The period over which wrong passwords are counted.",
    )
    ui_signin_lockout_minutes: float = Field(
        default=15.0, gt=0, le=1440, description="How long a locked user name or address is refused.",
    )
    ui_session_hours: float = Field(
        default=12.0, gt=0, le=24 * 90, description="How long a sign-in lasts; then the user signs in again.",
    )
    ui_session_idle_minutes: float = Field(
        default=120.0, ge=0, le=24 * 60 * 90,
        description="A sign-in unused for this long ends early (0: only ui_session_hours ends it).",
    )

    @field_validator("home", "corpus_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("chunk_max_tokens", mode="after")
    @classmethod
    def _max_at_least_target(cls, value: int, info) -> int:
        target = info.data.get("chunk_tokens")
        if target is not None and value < target:
            raise ValueError(f"chunk_max_tokens ({value}) must be at least chunk_tokens ({target})")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file_path()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # -- derived paths -----------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def chroma_dir(self) -> Path:
        return self.index_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.index_dir / "catalog.sqlite3"

    @property
    def uploads_dir(self) -> Path:
        """Documents added in the web app (with their manifest.json); indexed with the rest."""
        from index.corpus import UPLOADS_FOLDER

        return self.home / UPLOADS_FOLDER

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def api_key(self) -> str | None:
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY") or None


def load_settings(**overrides) -> Settings:
    """Read the settings; keyword arguments win over environment and file."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
