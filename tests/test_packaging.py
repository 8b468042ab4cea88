"""What installing mockportal puts on a downstream project's path: the portal and its pytest
plugin, never the reference client as a top-level `client` that would shadow theirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def python(code_or_args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run([sys.executable, *code_or_args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def test_outside_the_checkout_client_is_not_importable_and_the_plugin_is_registered(tmp_path):
    found = python(["-c", "import importlib.metadata as m, importlib.util as u; print(u.find_spec('client'));"
                          "print(sorted(e.value for e in m.entry_points(group='pytest11') if e.name == 'mockportal'))"],
                   tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == ["None", "['mockportal.pytest_plugin']"], (
        f"{found.stdout} (an install from before client/ was left out? `pip install -e .` again)")


def test_python_m_client_runs_from_the_checkout():
    result = python(["-m", "client", "--help"], CHECKOUT)
    assert result.returncode == 0, result.stderr
    assert "Usage: python -m client" in result.stdout
