"""The PyInstaller spec ships what the frozen app reads at run time.

The spec runs only inside PyInstaller (it needs `Analysis`, `workpath`, …), so it is read
here as Python source: its `RESOURCES` list says which repository paths go where in the
bundle. A frozen module's `__file__` is `<bundle>/reverie/<package>/<module>.pyc`, so a
resource the code finds at `<repository>/<path>` (beside `core/` and `desktop/`) must
land at `<bundle>/reverie/<path>`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from reverie.core import demo
from reverie.desktop import app

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "installer" / "reverie.spec"
FROZEN_ROOT = Path("reverie")  # where `core/`, `desktop/` and `resources/` sit in a bundle


def spec_resources(spec: Path = SPEC) -> list[tuple[str, str]]:
    """The spec's `RESOURCES = [(source, target folder), ...]`, read without running it."""
    for node in ast.parse(spec.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "RESOURCES"):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return [(str(source), str(target)) for source, target in value]
    raise AssertionError(f"{spec} has no RESOURCES list")


def bundled_files(resources: list[tuple[str, str]], repo: Path = REPO) -> dict[Path, Path]:
    """Each file the bundle will hold, by its path in the bundle, as PyInstaller lays out
    a `datas` entry: a folder's files keep their place below the target folder, a file
    goes into it. A source that does not exist fails (PyInstaller would stop too)."""
    files: dict[Path, Path] = {}
    for source, target in resources:
        origin = repo / source
        assert origin.exists(), f"the spec ships {source}, which does not exist"
        if origin.is_dir():
            for path in origin.rglob("*"):
                if path.is_file():
                    files[Path(target) / path.relative_to(origin)] = path
        else:
            files[Path(target) / origin.name] = origin
    return files


def frozen_path(path: Path) -> Path:
    """Where a file the code finds at `path` in the repository is in the bundle."""
    return FROZEN_ROOT / path.resolve().relative_to(REPO)


def test_the_spec_ships_its_resources_into_the_datas() -> None:
    source = SPEC.read_text(encoding="utf-8")
    assert "for source, target in RESOURCES:" in source
    assert "datas.append((str(REPO / source), target))" in source
    assert spec_resources()


def test_the_demo_sample_is_shipped_where_the_frozen_demo_looks() -> None:
    bundled = bundled_files(spec_resources())
    sample = demo.sample_files()  # what building a demo store reads (fails if empty)
    sample.append(demo.SAMPLE_DIR / "memories.jsonl")
    for path in sample:
        assert frozen_path(path) in bundled, f"{path} is not in the bundle"


def test_the_window_icon_is_shipped_where_the_frozen_app_looks() -> None:
    icon = REPO / "resources" / "icons" / app.ICON_NAME
    assert icon.is_file()
    assert frozen_path(icon) in bundled_files(spec_resources())


def test_a_missing_resource_fails(tmp_path: Path) -> None:
    """The check itself: a spec naming a resource that is not there is caught."""
    spec = tmp_path / "reverie.spec"
    spec.write_text('RESOURCES = [("resources/samples/gone", "reverie/resources/samples")]\n',
                    encoding="utf-8")
    with pytest.raises(AssertionError, match="does not exist"):
        bundled_files(spec_resources(spec))
    spec.write_text("datas = []\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="no RESOURCES"):
        spec_resources(spec)
