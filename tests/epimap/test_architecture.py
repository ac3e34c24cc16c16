"""The layout's promises: imports run downward (import-linter), no private name crosses a module."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("epimap", "boundaries", "layers", "ingest", "officials", "portal")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_imports(path: Path) -> list[str]:
    """Return the ``from module import _name`` lines of a file that take another module's private name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            found += [f"{path.relative_to(REPO)}:{node.lineno}: {node.module}.{alias.name}"
                      for alias in node.names if _private(alias.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            if isinstance(base, ast.Name) and base.id in PACKAGES:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {base.id}.{node.attr}")
    return found


def test_no_private_name_crosses_a_module():
    crossing = [line for package in PACKAGES for path in sorted((REPO / package).rglob("*.py"))
                for line in _private_imports(path)]
    assert crossing == []


def test_the_check_sees_a_private_import(tmp_path):
    sample = REPO / "portal" / "_sample_for_test.py"
    try:
        sample.write_text("from ingest.rows import _hidden\n", encoding="utf-8")
        assert _private_imports(sample) == ["portal/_sample_for_test.py:1: ingest.rows._hidden"]
    finally:
        sample.unlink()


def test_packages_import_downward_only():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is a test dependency (setup.cfg)"
    result = subprocess.run([lint, str(REPO / "setup.cfg")], cwd=REPO, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
