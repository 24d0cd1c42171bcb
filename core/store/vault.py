"""Opening the ledger with its key: create it, unlock it, encrypt a ledger from before
encryption, and change its key, each crash-safe.

A key change writes a full copy of the ledger under the new key beside the old one
(`ledger.db.next`), lists both recipes in `key.json`, then renames the copy over the
ledger. Whichever recipe opens the ledger at the next start tells how far it got, and
the leftovers of the other are cleared.
"""

from __future__ import annotations

import logging
from pathlib import Path

from reverie.core.errors import StoreError, WrongKey
from reverie.core.store import keys
from reverie.core.store.keys import KeyRecipe, Unlocker
from reverie.core.store.ledger import (
    NO_KEY_PRAGMA,
    Ledger,
    is_plaintext_sqlite,
    key_pragma,
    open_keyed,
)

log = logging.getLogger("reverie.store")

LEDGER_FILE = "ledger.db"


def store_exists(directory: Path) -> bool:
    """True when `directory` holds a store (its key recipe or its ledger)."""
    return (directory / keys.KEY_FILE).exists() or (directory / LEDGER_FILE).exists()


def open_ledger(data_dir: Path, unlocker: Unlocker) -> Ledger:
    """Open (or create) the ledger of `data_dir`, asking `unlocker` for its key."""
    path = data_dir / LEDGER_FILE
    recipes = keys.read_recipes(data_dir)
    if recipes is None:
        return _first_open(data_dir, path, unlocker)
    if is_plaintext_sqlite(path):
        _finish_encrypting(path)
    tried = False
    for recipe, key in unlocker.attempts(recipes):
        tried = True
        try:
            ledger = Ledger(path, key)
        except WrongKey:
            continue
        _settle(data_dir, recipes, recipe, unlocker)
        return ledger
    if not tried:
        raise StoreError(
            "the OS keyring has no key for this data directory (it may have been reset); "
            "restore the keyring, or restore a backup made with a passphrase"
        )
    raise WrongKey(f"wrong passphrase: {data_dir} stays locked, nothing was changed")


def verify_passphrase(data_dir: Path, passphrase: str) -> bool:
    """True when `passphrase` opens this data directory's ledger now."""
    recipes = keys.read_recipes(data_dir) or []
    for recipe in recipes:
        if recipe.method != "passphrase":
            continue
        try:
            open_keyed(data_dir / LEDGER_FILE, key_pragma(recipe.derive(passphrase))).close()
        except WrongKey:
            continue
        return True
    return False


def change_key(data_dir: Path, ledger: Ledger, unlocker: Unlocker, to_keyring: bool) -> Ledger:
    """Re-encrypt the ledger under a new key (keyring or new passphrase); return it reopened.

    `ledger` is closed on success; on failure it is left open and unchanged.
    """
    recipes = keys.read_recipes(data_dir)
    if not recipes:
        raise StoreError("key.json is missing; the key cannot be changed")
    if to_keyring and unlocker.keyring is None:
        raise StoreError("this machine has no secure keyring to move the key into")
    old = recipes[0]
    recipe, key = unlocker.create(prefer_keyring=to_keyring)
    copy = _next_path(ledger.path)
    try:
        ledger.export_to(copy, key)
        keys.write_recipes(data_dir, [recipe, old])
    except BaseException:
        copy.unlink(missing_ok=True)
        unlocker.forget(recipe)
        raise
    ledger.close()
    _remove_wal(ledger.path)
    copy.replace(ledger.path)
    keys.fsync_dir(data_dir)
    keys.write_recipes(data_dir, [recipe])
    unlocker.forget(old)
    log.info("ledger key changed (now: %s)", recipe.method)
    return Ledger(ledger.path, key)


def _first_open(data_dir: Path, path: Path, unlocker: Unlocker) -> Ledger:
    if path.exists() and path.stat().st_size > 0 and not is_plaintext_sqlite(path):
        raise StoreError(
            f"{path} is encrypted but {keys.KEY_FILE} is missing beside it; "
            "restore that file from a backup to open it"
        )
    recipe, key = unlocker.create()
    if path.exists():
        _encrypt_plaintext(data_dir, path, recipe, key)
    else:
        keys.write_recipes(data_dir, [recipe])
    return Ledger(path, key)


def _encrypt_plaintext(data_dir: Path, path: Path, recipe: KeyRecipe, key: bytes) -> None:
    # A ledger written before encryption: copy it encrypted, then swap the copy in.
    conn = open_keyed(path, NO_KEY_PRAGMA)
    copy = _next_path(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        copy.unlink(missing_ok=True)
        conn.execute(f"ATTACH DATABASE ? AS copy KEY {key_pragma(key)}", (str(copy),))
        conn.execute("SELECT sqlcipher_export('copy')")
        conn.execute(f"PRAGMA copy.user_version = {version}")
        conn.execute("DETACH DATABASE copy")
    finally:
        conn.close()
    keys.write_recipes(data_dir, [recipe])
    _finish_encrypting(path)
    log.warning("an unencrypted ledger was encrypted in place")


def _finish_encrypting(path: Path) -> None:
    copy = _next_path(path)
    if not copy.exists():
        raise StoreError(f"{path} is not encrypted but key.json says it should be")
    _remove_wal(path)
    copy.replace(path)
    keys.fsync_dir(path.parent)


def _settle(data_dir: Path, recipes: list[KeyRecipe], used: KeyRecipe, unlocker: Unlocker) -> None:
    if len(recipes) == 1:
        return
    # A key change was interrupted; `used` says which side of the swap we are on.
    keys.write_recipes(data_dir, [used])
    for recipe in recipes:
        if recipe != used:
            unlocker.forget(recipe)
    _next_path(data_dir / LEDGER_FILE).unlink(missing_ok=True)
    log.warning("finished an interrupted key change")


def _next_path(path: Path) -> Path:
    return path.with_name(path.name + ".next")


def _remove_wal(path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
