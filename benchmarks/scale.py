"""Scale benchmark: the default corpus copied 100x and 1,000x, in embedded and server Chroma.

For each size it reports: documents, chunks and vectors; the time to write the index (catalogue
with its keyword index, and Chroma); the embedding time that size would take with the real
model, from a measured rate; the index size on disk; the peak memory of this process; and warm
hybrid search latency p50/p95 over 30 questions (query embedding included).

How the synthetic corpus is made: each copy of each default document gets its own file name,
title and date and has its place names swapped for others, so keyword statistics change from
copy to copy. Chunks come from the real chunker. Embedding hundreds of thousands of texts with
the real model would take hours on 2 cores, so each copy's vectors are the real vectors of the
default corpus with a little noise added (and renormalised): the vector index sees as many
distinct points as a real corpus of that size. The real embedding rate is measured on the
default corpus and the embedding time is reported separately, as an estimate.

    .venv/bin/python benchmarks/scale.py --sizes 100 1000 --modes embedded server
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from timing import percentile

REPO = Path(__file__).resolve().parent.parent
PLACES = ["Blackpool", "Barrow", "Preston", "Burnley", "Lancaster", "Kendal", "Chorley", "Fleetwood", "Morecambe", "Pendle"]
OTHER_PLACES = ["Ambleside", "Bacup", "Clitheroe", "Darwen", "Garstang", "Heysham", "Lytham", "Ormskirk", "Ulverston", "Whalley"]
QUESTIONS = [
    "What are the urgent care priorities?", "What is the financial deficit?", "Cancer plans for 2027/28",
    "What is the vision for 2035?", "integrated neighbourhood teams", "Blackpool place priorities",
    "maternity services", "mental health out of area placements", "learning disabilities and autism",
    "children and young people's mental health", "population health management", "access to GP appointments",
    "all-age continuing care savings", "diagnostics and pathology", "planned care waiting lists",
    "What is planned in Millom?", "end of life and frailty", "intermediate care in 2026/27",
    "shared care record", "workforce and agency costs", "hypertension treating to target",
    "Jean Bishop Integrated Care Centre", "new hospitals programme", "priority wards", "What did people tell us?",
    "the eight priorities of Our next steps", "1.7 million people", "£167m spending reduction",
    "What does the board paper recommend?", "first wave of acute reconfiguration",
]


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_mb(pid: int) -> float | None:
    """Peak resident memory of another process (the Chroma server), from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def start_chroma_server(path: Path) -> tuple[subprocess.Popen, int]:
    from assistant.local_model import free_port

    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    import chromadb

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
            return process, port
        except Exception:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the Chroma server did not start")


def base_corpus(settings, chunker):
    """The default corpus: its documents with their chunks and embedding texts."""
    from index.corpus import discover
    from index.documents import LoadedDocument
    from index.loaders import load_file

    documents = []
    for info in discover([settings.corpus_dir]).documents:
        extracted = load_file(info.path)
        document = LoadedDocument(info=info, text=extracted.text, page_starts=extracted.page_starts)
        chunks = chunker.chunk(document)
        per_chunk = [chunker.embedding_texts(chunk) for chunk in chunks]
        documents.append((info, document.text, chunks, per_chunk))
    return documents


def embed_base(documents, embeddings) -> tuple[list, float]:
    """Real vectors of the default corpus, and the measured embedding rate (texts a second)."""
    texts = [t for *_, per_chunk in documents for group in per_chunk for t in group]
    started = time.perf_counter()
    vectors = embeddings.embed_documents(texts)
    return vectors, len(texts) / (time.perf_counter() - started)


def write_copies(copies: int, documents, vectors, catalog, store, chunker, seed: int = 7) -> None:
    import numpy as np

    from index.catalog import chunk_id
    from index.documents import DocumentInfo
    from index.vectors import vector_id

    rng = np.random.default_rng(seed)
    shuffle = random.Random(seed)
    base = np.asarray(vectors, dtype=np.float32)
    for copy in range(copies):
        if copy and copy % 100 == 0:
            print(f"  {copy}/{copies} copies written", file=sys.stderr, flush=True)
        swap = dict(zip(PLACES, shuffle.sample(OTHER_PLACES, len(PLACES))))
        pattern = re.compile(r"\b(" + "|".join(PLACES) + r")\b")
        offset = 0
        noisy = base + rng.normal(0, 0.03, base.shape).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        for info, text, chunks, per_chunk in documents:
            doc = f"copy{copy:04d}-{info.doc}"
            new_info = DocumentInfo(Path(doc), f"{info.title} (copy {copy})", f"{2000 + copy % 26}", info.kind, info.publisher)
            new_text = pattern.sub(lambda m: swap[m.group(1)], text) if copy else text
            digest = f"{copy:012d}"
            catalog.begin_document(new_info, digest, new_info.title)
            ids, docs_text, metas = [], [], []
            for chunk, group in zip(chunks, per_chunk):
                for n, _ in enumerate(group):
                    ids.append(vector_id(chunk_id(doc, digest, chunk.index), n))
                    docs_text.append(new_text[chunk.start : chunk.end][:200])
                    metas.append({"doc": doc, "index": chunk.index})
            store.add(ids, docs_text, noisy[offset : offset + len(ids)].tolist(), metas)
            offset += len(ids)
            renamed = [replace(chunk, doc=doc, text=new_text[chunk.start : chunk.end]) for chunk in chunks]
            catalog.complete_document(
                doc, digest, renamed, [c.search_text(new_info.title) for c in renamed], new_text, None, vectors=len(ids)
            )


def measure(size: int, mode: str, documents, vectors, rate: float, settings, chunker, embeddings) -> dict:
    from assistant.retrieval import Retriever
    from index.catalog import Catalog

    home = Path(tempfile.mkdtemp(prefix=f"icb-scale-{size}-{mode}-"))
    server = None
    try:
        catalog = Catalog(home / "catalog.sqlite3")
        store, server = open_store(home, mode, embeddings)
        started = time.perf_counter()
        write_copies(size, documents, vectors, catalog, store, chunker)
        write_s = time.perf_counter() - started
        times = search_times(Retriever(catalog, store))
        result = {
            "size": size, "mode": mode, "documents": size * len(documents), "chunks": catalog.chunk_count(),
            "vectors": store.count(), "write_index_s": round(write_s, 1),
            "embedding_estimate_s": round(store.count() / rate, 1),
            **search_figures(home, times, server),
        }
        catalog.close()
        return result
    finally:
        stop_server(server)
        keep = os.environ.get("ICB_SCALE_KEEP")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.move(str(home), str(Path(keep) / f"{size}-{mode}"))
        else:
            shutil.rmtree(home, ignore_errors=True)


def search_times(retriever) -> list[float]:
    """Milliseconds for each of the 30 questions, after one search that warms the caches."""
    retriever.search("warm up the caches", k=5)
    times = []
    for question in QUESTIONS:
        mark = time.perf_counter()
        retriever.search(question, k=5)
        times.append((time.perf_counter() - mark) * 1000)
    return times


def open_store(folder: Path, mode: str, embeddings):
    """The vector store in ``folder``/chroma, embedded or through a Chroma server started on it
    (returned too, or None)."""
    from index.vectors import VectorStore

    if mode == "server":
        server, port = start_chroma_server(folder / "chroma")
        return VectorStore.open_server("127.0.0.1", port, "scale", embeddings), server
    return VectorStore.open_local(folder / "chroma", "scale", embeddings), None


def stop_server(server: subprocess.Popen | None) -> None:
    if server is not None:
        server.terminate()
        server.wait(timeout=30)


def search_figures(folder: Path, times: list[float], server: subprocess.Popen | None) -> dict:
    """Index size, peak memory (this process, the server) and search latency p50/p95."""
    return {
        "index_mb": round(folder_size(folder) / 1e6, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
        "server_peak_rss_mb": round(process_peak_mb(server.pid) or 0, 1) if server else None,
        "search_p50_ms": round(percentile(times, 50), 1), "search_p95_ms": round(percentile(times, 95), 1),
    }


def search_existing(folder: Path, mode: str, embeddings) -> dict:
    """Search latency on an index written earlier, opened by this fresh process as the app opens it."""
    from assistant.retrieval import Retriever
    from index.catalog import Catalog

    server = None
    try:
        catalog = Catalog(folder / "catalog.sqlite3")
        store, server = open_store(folder, mode, embeddings)
        times = search_times(Retriever(catalog, store))
        result = {
            "index": str(folder), "mode": mode, "documents": len(catalog.documents()), "chunks": catalog.chunk_count(),
            "vectors": store.count(), **search_figures(folder, times, server), "search_ms": [round(t, 1) for t in times],
        }
        catalog.close()
        return result
    finally:
        stop_server(server)


def run_child(arguments: list[str], what: str, env: dict | None = None) -> dict | None:
    """Run this script as a child for one measurement; its RESULT line, or None (said) if it failed."""
    child = subprocess.run([sys.executable, __file__, *arguments], env=env, stdout=subprocess.PIPE, text=True)
    lines = [line for line in child.stdout.splitlines() if line.startswith("RESULT ")]
    if child.returncode or not lines:
        print(f"{what}: the run failed (exit code {child.returncode})", flush=True)
        return None
    return json.loads(lines[-1][len("RESULT "):])


def setup():
    """This process's settings, chunker and embedder, in a throw-away home."""
    home = Path(os.environ.get("ICB_SCALE_HOME") or tempfile.mkdtemp(prefix="icb-scale-home-"))
    for name in [n for n in os.environ if n.startswith("ICB_ASSISTANT_")]:
        del os.environ[name]
    os.environ["ICB_ASSISTANT_HOME"] = str(home)
    from assistant.components import make_chunker, make_embeddings, prepare_environment
    from assistant.config import load_settings

    settings = load_settings()
    prepare_environment(settings)
    return home, settings, make_chunker(settings), make_embeddings(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="copies of the default corpus (default: %(default)s)")
    parser.add_argument("--modes", nargs="+", choices=["embedded", "server"], default=["embedded", "server"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "scale.json",
                        help="where to write the figures as JSON (default: %(default)s)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep each written index in DIR/<size>-<mode> instead of deleting it")
    parser.add_argument("--index", type=Path, metavar="DIR",
                        help="write nothing: measure search on an index kept by --keep, from a fresh process "
                        "(as the app opens an index that `icb-assistant index` wrote), in each of --modes")
    parser.add_argument("--measure", nargs=2, metavar=("SIZE", "MODE"), help=argparse.SUPPRESS)  # one child run
    parser.add_argument("--search", nargs=2, metavar=("DIR", "MODE"), help=argparse.SUPPRESS)  # one child run
    args = parser.parse_args()

    if args.search:  # a child: search an existing index in one mode
        home, settings, chunker, embeddings = setup()
        result = search_existing(Path(args.search[0]), args.search[1], embeddings)
        print("RESULT " + json.dumps(result), flush=True)
        shutil.rmtree(home, ignore_errors=True)
        return

    if args.index:
        results = []
        for mode in args.modes:
            result = run_child(["--search", str(args.index), mode], f"{args.index} {mode}")
            if result:
                results.append(result)
                print(json.dumps({k: v for k, v in result.items() if k != "search_ms"}), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"results": results}, indent=2))
        return

    if args.measure:  # a child: one size in one mode, so its peak memory is its own
        import numpy as np

        home, settings, chunker, embeddings = setup()
        documents = base_corpus(settings, chunker)
        vectors = np.load(home / "base-vectors.npy")
        rate = float((home / "rate.txt").read_text())
        result = measure(int(args.measure[0]), args.measure[1], documents, vectors, rate, settings, chunker, embeddings)
        print("RESULT " + json.dumps(result), flush=True)
        return

    import numpy as np

    home, settings, chunker, embeddings = setup()
    documents = base_corpus(settings, chunker)
    vectors, rate = embed_base(documents, embeddings)
    np.save(home / "base-vectors.npy", np.asarray(vectors, dtype=np.float32))
    (home / "rate.txt").write_text(str(rate))
    print(f"default corpus: {sum(len(d[2]) for d in documents)} chunks, {len(vectors)} vectors; "
          f"real embedding rate {rate:.1f} texts/s", flush=True)
    results = []
    for size in args.sizes:
        for mode in args.modes:
            env = dict(os.environ, ICB_SCALE_HOME=str(home), ICB_SCALE_KEEP=str(args.keep or ""))
            result = run_child(["--measure", str(size), mode], f"size {size} {mode}", env)
            if result:
                results.append(result)
                print(json.dumps(result), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"embedding_rate_per_s": round(rate, 1), "results": results}, indent=2))
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
