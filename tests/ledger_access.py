"""How tests reach a data directory from outside Reverie: the environment for a CLI
subprocess, and a raw connection to its encrypted ledger."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from reverie.core.store.keys import PASSPHRASE_ENV, KeyRecipe, read_recipes
from reverie.core.store.ledger import key_pragma, open_keyed

CLI_PASSPHRASE = "a test passphrase"


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a `reverie` subprocess: no OS keyring, a known passphrase."""
    env = dict(os.environ)
    # Never touch the developer's real keyring; subprocesses use the passphrase path.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env[PASSPHRASE_ENV] = CLI_PASSPHRASE
    env.update(extra)
    return env


@functools.cache
def _derived(recipe: KeyRecipe, passphrase: str) -> bytes:
    return recipe.derive(passphrase)  # scrypt is slow on purpose: derive once per test run


def ledger_connection(data_dir: Path, passphrase: str = CLI_PASSPHRASE) -> Any:
    """A raw SQLCipher connection to a passphrase-locked ledger (the caller closes it)."""
    recipes = read_recipes(data_dir)
    assert recipes, f"{data_dir} has no key.json"
    return open_keyed(data_dir / "ledger.db", key_pragma(_derived(recipes[0], passphrase)))
