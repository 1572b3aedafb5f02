"""Shared fixtures: the real graph built once per test session from seeds/, into a temporary build folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ingest.build import BuildResult, build  # noqa: E402
from mdkg.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """`mdkg build` on the seeds as they are; its N-Quads dump is `built.folder / "mdkg.nq"`."""
    settings = Settings(build_dir=tmp_path_factory.mktemp("build"))
    return build(settings)


@pytest.fixture(scope="session")
def built_dataset(built: BuildResult) -> Path:
    return built.folder / "mdkg.nq"
