"""The store opened while the window is built: taken once, errors passed on, and closed
when the window never asked for it."""

from __future__ import annotations

from typing import cast

import pytest

from reverie.core.errors import WrongKey
from reverie.core.service import Reverie
from reverie.desktop.early_open import EarlyOpen


class Facade:
    """Stands in for the facade: only whether it was closed matters here."""

    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_the_facade_is_taken_once_and_never_closed_by_discard() -> None:
    facade = Facade()
    early = EarlyOpen(lambda: cast(Reverie, facade))
    assert early.take() is facade
    assert early.taken
    early.discard()
    assert facade.closed == 0  # the window owns it now


def test_a_failed_opening_is_raised_where_it_is_taken() -> None:
    def refuse() -> Reverie:
        raise WrongKey("wrong passphrase")

    early = EarlyOpen(refuse)
    with pytest.raises(WrongKey, match="wrong passphrase"):
        early.take()
    early.discard()  # nothing to close


def test_an_opening_nobody_took_is_closed() -> None:
    facade = Facade()
    early = EarlyOpen(lambda: cast(Reverie, facade))
    early.discard()
    early.discard()
    assert facade.closed == 1
