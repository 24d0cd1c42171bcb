"""The layering rules of GUIDE §3 that a machine can check."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_ENGINE = ("PySide6", "shiboken6", "reverie.desktop", "desktop")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_and_models_never_import_qt_or_desktop() -> None:
    offenders = []
    for folder in ("core", "models"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for name in _imported_modules(path):
                if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IN_ENGINE):
                    offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert offenders == []


def test_cli_runs_without_loading_qt() -> None:
    code = (
        "import sys, reverie.core.cli, reverie.desktop.launcher, reverie.models;"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'llama_cpp'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    mapping = config["tool"]["setuptools"]["package-dir"]
    found = set()
    for package, folder in mapping.items():
        for init in (REPO / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / folder)
            found.add(".".join([package, *relative.parts]))
    assert found == listed
