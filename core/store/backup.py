"""Backups of a data directory, made while it is open, and restoring one.

A backup is a folder holding a consistent encrypted copy of the ledger (`ledger.db`,
written by SQLCipher's export while writes wait), the `key.json` that says how to get
its key, and `backup.json`, written last, which marks the folder as a finished backup.
The vector index is not copied: it is derived from the ledger, and the store rebuilds
it when it opens a ledger whose index is missing.

By default a backup keeps the store's own key recipe, so it opens wherever the store
does. With a passphrase it is re-encrypted under a recipe of its own (a fresh scrypt
salt), so it can be restored on another machine whose keyring lacks the store's key.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlcipher3 import dbapi2 as sqlite

from reverie.core.errors import BadInput, StoreError, WrongKey
from reverie.core.store import keys
from reverie.core.store.keys import KeyRecipe, Unlocker
from reverie.core.store.ledger import BACKUP_DIR, Ledger, key_pragma, open_keyed
from reverie.core.store.lock import DataDirLock
from reverie.core.store.schema import SCHEMA_VERSION
from reverie.core.store.store import INDEX_DIR, Store
from reverie.core.store.vault import LEDGER_FILE

log = logging.getLogger("reverie.backup")

MANIFEST = "backup.json"
FORMAT = "reverie-backup"
VERSION = 1
LOCK_FILE = "reverie.lock"
STAGED_SUFFIX = ".restoring"


@dataclass(frozen=True)
class BackupReport:
    """Where a backup was written and how its key is kept."""

    path: Path
    key_method: str  # "keyring" (the store's own recipe) or "passphrase"


@dataclass(frozen=True)
class RestoreReport:
    """What a restore put in place and where the data it replaced was kept."""

    data_dir: Path
    schema: int
    set_aside: Path | None  # the replaced ledger and key.json, when there were any


def backup(store: Store, target: Path, passphrase: str | None = None) -> BackupReport:
    """Copy the store's ledger and key recipe into the new (or empty) folder `target`.

    With `passphrase` the copy is encrypted under a new passphrase recipe instead of the
    store's own key.
    """
    _check_target(target)
    if passphrase is not None and len(passphrase) < keys.MIN_PASSPHRASE:
        raise BadInput(f"a backup passphrase needs at least {keys.MIN_PASSPHRASE} characters")
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        recipes, key = _backup_key(store, passphrase)
        _copy_ledger(store.ledger, target / LEDGER_FILE, key)
        keys.write_recipes(target, recipes)
        _write_manifest(target, recipes[0].method)
    except (OSError, sqlite.DatabaseError) as exc:
        _remove_partial_backup(target, created)
        raise StoreError(f"cannot write the backup to {target}: {exc}") from None
    except BaseException:
        _remove_partial_backup(target, created)
        raise
    log.info("backup written (%s key)", recipes[0].method)
    return BackupReport(target, recipes[0].method)


def _check_target(target: Path) -> None:
    if target.is_file():
        raise BadInput(f"{target} is a file; a backup goes into a new folder")
    if target.is_dir() and any(target.iterdir()):
        raise BadInput(f"{target} is not empty; a backup goes into a new or empty folder")


def _backup_key(store: Store, passphrase: str | None) -> tuple[list[KeyRecipe], bytes]:
    if passphrase is not None:
        recipe = KeyRecipe(method="passphrase", salt=secrets.token_hex(16))
        return [recipe], recipe.derive(passphrase)
    recipes = keys.read_recipes(store.data_dir)
    if not recipes:
        raise StoreError(f"{store.data_dir} has no {keys.KEY_FILE}; cannot back it up")
    # The open store settled key.json to the one recipe its key came from (vault._settle).
    # Ledger keeps the key it was opened with and offers no accessor for it.
    return recipes[:1], store.ledger.key


def _copy_ledger(ledger: Ledger, target: Path, key: bytes) -> None:
    # sqlcipher_export under the ledger's write lock: a consistent copy while open.
    ledger.export_to(target, key)
    _fsync_file(target)


def _write_manifest(target: Path, key_method: str) -> None:
    document = {
        "format": FORMAT, "version": VERSION, "schema": SCHEMA_VERSION, "key": key_method,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    partial = target / (MANIFEST + ".partial")
    partial.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    _fsync_file(partial)
    partial.replace(target / MANIFEST)
    keys.fsync_dir(target)


def _remove_partial_backup(target: Path, created: bool) -> None:
    for name in (LEDGER_FILE, LEDGER_FILE + "-journal", keys.KEY_FILE, keys.KEY_FILE + ".partial",
                 MANIFEST, MANIFEST + ".partial"):
        (target / name).unlink(missing_ok=True)
    if created:
        target.rmdir()


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


# ---- restore -------------------------------------------------------------------------


def read_manifest(backup_dir: Path) -> dict[str, Any]:
    """The manifest of a finished backup; refuse a folder that is not one."""
    path = backup_dir / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BadInput(
            f"{backup_dir} is not a finished Reverie backup (no readable {MANIFEST})"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BadInput(f"{path} is not a Reverie backup manifest")
    schema = document.get("schema")
    if document.get("version") != VERSION or not isinstance(schema, int):
        raise BadInput(f"{path}: unknown backup version; update Reverie to restore it")
    if schema > SCHEMA_VERSION:
        raise StoreError(f"{backup_dir} was made by a newer Reverie (schema {schema}, this one "
                         f"knows {SCHEMA_VERSION}); update Reverie to restore it")
    if not (backup_dir / LEDGER_FILE).is_file():
        raise BadInput(f"{backup_dir} has no {LEDGER_FILE}; the backup is incomplete")
    return document


def restore(
    backup_dir: Path, data_dir: Path, unlocker: Unlocker, *, replace: bool = False
) -> RestoreReport:
    """Put the backup in `backup_dir` in place as the ledger of `data_dir`.

    A data directory that holds anything is refused unless `replace` is set; then its
    ledger and key.json are first kept aside under `backups/`. The backup's key must be
    obtainable here (`unlocker`: this keyring, or the backup's passphrase) before
    anything is touched. The files arrive under temporary names, are flushed to disk,
    then renamed into place; the search index is rebuilt when the store next opens.
    """
    if data_dir.exists() and not data_dir.is_dir():
        raise BadInput(f"{data_dir} is a file, not a data directory")
    manifest = read_manifest(backup_dir)
    recipes = keys.read_recipes(backup_dir)
    if not recipes:
        raise BadInput(f"{backup_dir} has no {keys.KEY_FILE}; the backup is incomplete")
    lock = DataDirLock(data_dir)  # no Reverie may have the directory open meanwhile
    lock.acquire()
    try:
        occupied = _occupied(data_dir)
        if occupied and not replace:
            raise BadInput(
                f"{data_dir} already holds data ({', '.join(occupied[:3])}); restore into an "
                "empty folder, or replace what is there (its ledger is kept aside first)"
            )
        if occupied:
            _check_closed_cleanly(data_dir)
        _check_key(backup_dir / LEDGER_FILE, recipes, unlocker)
        set_aside = _swap_in(backup_dir, data_dir, recipes, bool(occupied))
    finally:
        lock.release()
    log.info("backup restored (schema %s)", manifest["schema"])
    return RestoreReport(data_dir, int(manifest["schema"]), set_aside)


def _occupied(data_dir: Path) -> list[str]:
    return sorted(entry.name for entry in data_dir.iterdir() if entry.name != LOCK_FILE)


def _check_closed_cleanly(data_dir: Path) -> None:
    # Committed changes still in a WAL would be kept aside only half (the .db without
    # them), or in a file that forgetting does not know to delete: let Reverie fold the
    # WAL into the ledger first.
    wal = data_dir / (LEDGER_FILE + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        raise StoreError(
            f"{data_dir} was not closed cleanly (its ledger has unsaved pages in "
            f"{wal.name}); open it once with Reverie and close it, or move the folder away "
            "yourself, then restore"
        )


def _check_key(ledger_path: Path, recipes: list[KeyRecipe], unlocker: Unlocker) -> None:
    tried = False
    for _, key in unlocker.attempts(recipes):
        tried = True
        try:
            open_keyed(ledger_path, key_pragma(key)).close()
        except WrongKey:
            continue
        return
    if not tried:
        raise StoreError(
            "this backup's key is in the keyring of the machine it was made on, and this "
            "keyring does not have it; restore a backup made with a passphrase instead"
        )
    if any(recipe.method == "passphrase" for recipe in recipes):
        raise WrongKey("wrong passphrase for this backup; nothing was changed")
    raise WrongKey("the key this keyring holds for the backup does not open it (a damaged "
                   "file?); nothing was changed")


def _swap_in(
    backup_dir: Path, data_dir: Path, recipes: list[KeyRecipe], occupied: bool
) -> Path | None:
    ledger = data_dir / LEDGER_FILE
    staged = ledger.with_name(LEDGER_FILE + STAGED_SUFFIX)
    aside: list[Path] = []
    try:
        shutil.copyfile(backup_dir / LEDGER_FILE, staged)
        _fsync_file(staged)
        if occupied:
            aside = _set_aside(data_dir)
        # An (empty) WAL of the old ledger must never be taken for the restored one's.
        for suffix in ("-wal", "-shm"):
            ledger.with_name(LEDGER_FILE + suffix).unlink(missing_ok=True)
        staged.replace(ledger)
    except BaseException as exc:
        staged.unlink(missing_ok=True)
        for path in aside:  # the old ledger is still live: its spare copy is not needed
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StoreError(f"cannot restore into {data_dir}: {exc}") from None
        raise
    keys.fsync_dir(data_dir)
    keys.write_recipes(data_dir, recipes)
    index = data_dir / INDEX_DIR
    if index.exists():
        shutil.rmtree(index)  # derived from the old ledger; rebuilt from the new one
    return aside[0] if aside else None


def _set_aside(data_dir: Path) -> list[Path]:
    """Keep the current ledger and key.json under backups/, the ledger named like
    Reverie's own backups so that forgetting deletes it too; return the ledger's first."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = data_dir / BACKUP_DIR / f"before-restore-{stamp}"
    names = {
        LEDGER_FILE: base.with_name(base.name + ".db"),
        keys.KEY_FILE: base.with_name(base.name + ".key.json"),
    }
    kept: list[Path] = []
    base.parent.mkdir(exist_ok=True)
    for name, target in names.items():
        if (data_dir / name).is_file():
            _keep_copy(data_dir / name, target)
            kept.append(target)
    keys.fsync_dir(base.parent)
    return kept


def _keep_copy(source: Path, target: Path) -> None:
    if target.exists():
        raise StoreError(f"{target} exists already; try the restore again in a second")
    try:
        # Instant; the old file survives under this name when the restored one replaces
        # it by rename (nothing writes it in place meanwhile: the directory is locked).
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
        _fsync_file(target)
