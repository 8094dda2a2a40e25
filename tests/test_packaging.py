"""A non-editable install works: the wheel holds every module, the prompts, the default corpus and
eval's gold set and baselines, and an unpacked wheel finds them from a folder outside the checkout.

Built offline (``pip wheel --no-build-isolation``) from a copy of the source tree, so the checkout
gets no build/ folder; this needs the setuptools that the ``test`` extra declares.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("assistant", "index", "eval")
NOT_BUILT = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "runs", ".ci-home",
             "tests", "benchmarks", "screenshots")
SHIPPED = {"prompts": "assistant/resources/prompts", "corpus": "assistant/resources/corpus"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    major = int(version("setuptools").split(".")[0])
    assert major >= 77, f"setuptools {version('setuptools')} cannot build this project: pip install -e '.[test]'"
    work = tmp_path_factory.mktemp("wheel")
    source = shutil.copytree(REPO, work / "source", ignore=shutil.ignore_patterns(*NOT_BUILT))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         str(source), "-w", str(work / "dist")],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [path] = (work / "dist").glob("icb_assistant-*.whl")
    return path


def source_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@pytest.mark.slow  # a wheel build: several seconds
def test_the_wheel_holds_every_module_the_prompts_the_corpus_and_the_gold_set(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for package in PACKAGES:
            for module in (REPO / package).rglob("*.py"):
                if "__pycache__" not in module.parts:
                    assert module.relative_to(REPO).as_posix() in names, f"{module} is missing from the wheel"
        for folder, packaged in SHIPPED.items():
            files = source_files(REPO / folder)
            assert files, f"nothing in {folder}/"
            for path in files:
                name = f"{packaged}/{path.relative_to(REPO / folder).as_posix()}"
                assert archive.read(name) == path.read_bytes(), f"{name} differs from {path}"
        for name in ["eval/gold_set.jsonl", *(f"eval/baselines/{p.name}" for p in (REPO / "eval" / "baselines").glob("*.json"))]:
            assert archive.read(name) == (REPO / name).read_bytes(), f"{name} differs in the wheel"
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        assert "icb-assistant = assistant.cli:main" in entry_points


CHECK = """
import json, sys
import assistant
from assistant.config import PROMPTS_DIR, load_settings
from eval.baseline import default_path
from eval.gold import GOLD_PATH, load_gold
from assistant.config import REPO_ROOT
settings = load_settings()
print(json.dumps({
    "package": assistant.__file__,
    "corpus_dir": str(settings.corpus_dir),
    "corpus": sorted(p.name for p in settings.corpus_dir.iterdir()),
    "system_prompt": (PROMPTS_DIR / "system.txt").read_text(encoding="utf-8"),
    "gold_items": len(load_gold()),
    "gold_path": str(GOLD_PATH),
    "baseline": default_path(REPO_ROOT, "extractive", False).is_file(),
}))
"""


@pytest.mark.slow
def test_an_unpacked_wheel_finds_its_prompts_corpus_and_gold_set_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {"PYTHONPATH": str(site), "ICB_ASSISTANT_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", CHECK], cwd=elsewhere, env=environment,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert Path(found["package"]).is_relative_to(site)  # not the checkout's
    assert Path(found["corpus_dir"]) == site / "assistant" / "resources" / "corpus"
    assert found["corpus"] == sorted(p.name for p in source_files(REPO / "corpus"))
    assert found["system_prompt"] == (REPO / "prompts" / "system.txt").read_text(encoding="utf-8")
    assert Path(found["gold_path"]).is_relative_to(site) and found["gold_items"] >= 120
    assert found["baseline"]


def test_a_source_checkout_uses_its_top_level_folders():
    from assistant.config import DEFAULT_CORPUS_DIR, PROMPTS_DIR
    from assistant.resources import shipped_folder

    assert DEFAULT_CORPUS_DIR == REPO / "corpus" and PROMPTS_DIR == REPO / "prompts"
    with pytest.raises(ValueError, match="no shipped folder"):
        shipped_folder("tests")
