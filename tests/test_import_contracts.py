"""The import direction of docs/architecture.md, checked by import-linter.

The contracts live in pyproject.toml. The second test proves they bite: the
same contracts, run on a copy of app/ with one forbidden import added, fail.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True,
        timeout=120, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def test_the_tree_keeps_every_import_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, line, broken", [
    # The platform may not know a domain.
    ("app/platform/time.py", "import app.ordering.states", "layers"),
    # A domain may not import a screen.
    ("app/ordering/states.py", "import app.views.guards", "layers"),
    # A cycle between domains: catalog sits below ordering.
    ("app/catalog/pricing.py", "import app.ordering.cart", "layers"),
    # One audience's screens may not use another's.
    ("app/views/sales/__init__.py", "import app.views.shop.browse", "audiences"),
])
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, broken):
    shutil.copytree(ROOT / "app", tmp_path / "app",
                    ignore=shutil.ignore_patterns("static", "templates", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "1 broken" in result.stdout, result.stdout
    name = {"layers": "Screens above domains", "audiences": "Each audience's screens"}[broken]
    assert any(row.startswith(name) and " BROKEN" in row
               for row in result.stdout.splitlines()), result.stdout
