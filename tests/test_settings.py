"""One Settings: plain defaults, the environment read only by `Settings.from_env`, when a command starts."""

from __future__ import annotations

import subprocess
import sys

from mdkg.settings import DEFAULT_BASE, ROOT, Settings


def test_only_from_env_reads_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MDKG_BASE", "http://example.org/kg/")
    monkeypatch.setenv("MDKG_BUILD_DIR", str(tmp_path))
    assert Settings().base == DEFAULT_BASE and Settings().build_dir == ROOT / "build"
    env = Settings.from_env()
    assert env.ns.ID == "http://example.org/kg/id/" and env.dataset_file == tmp_path / "current" / "mdkg.nq"
    assert Settings.from_env({}) == Settings()


def test_commands_take_the_environment_when_they_start_not_when_imported(tmp_path):
    """The modules are imported first, the environment set after: the command still sees it."""
    script = (
        "import os, sys; from click.testing import CliRunner; from mdkg.cli import main; import graph.gaps_cli; "
        f"os.environ['MDKG_BUILD_DIR'] = {str(tmp_path / 'elsewhere')!r}; "
        "r = CliRunner().invoke(main, ['gaps', '-i', 'icrmw']); print(r.output); sys.exit(r.exit_code)"
    )
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and f"no dataset at {tmp_path / 'elsewhere'}" in r.stdout, r.stdout + r.stderr
