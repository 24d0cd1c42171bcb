"""The `make_window` fixture itself: every window it opened is shut down at the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reverie.desktop.main_window import MainWindow


def test_a_window_closed_by_the_test_and_a_second_on_the_same_data_dir(
    make_window: Callable[..., MainWindow], tmp_path: Path,
) -> None:
    """Closing a window, then opening another on its data dir (the lock is free again):
    teardown must not trip over the first window, deleted by then."""
    first = make_window()
    first.close()
    assert first.runner.facade is None  # closing shut it down and freed the data dir
    second = make_window(data_dir=tmp_path / "data")
    assert second.runner.facade is not None
    assert second.runner.facade.data_dir == tmp_path / "data"
