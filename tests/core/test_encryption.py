"""Encryption at rest: the key comes from a secure keyring or a passphrase, never from
a plaintext fallback; a wrong key opens nothing; the key can be changed safely."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from keyring.backends import fail

from reverie.core.errors import PassphraseRequired, StoreError, WrongKey
from reverie.core.store import keys
from reverie.core.store.keys import PassphraseRequest, Unlocker, secure_keyring
from reverie.core.store.ledger import NO_KEY_PRAGMA, open_keyed
from reverie.core.store.schema import MIGRATIONS
from reverie.core.store.store import Store
from tests.keyring_double import MemoryKeyring

MODEL = "test-model"


def passphrases(*answers: str | None) -> Unlocker:
    """An unlocker without keyring that answers the passphrase prompts in turn."""
    queue = list(answers)
    asked: list[PassphraseRequest] = []

    def ask(request: PassphraseRequest) -> str | None:
        asked.append(request)
        return queue.pop(0) if queue else None

    unlocker = Unlocker(None, ask)
    unlocker.asked = asked  # type: ignore[attr-defined]
    return unlocker


def write_memory_row(store: Store, text: str) -> None:
    with store.ledger.transaction() as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('probe', ?)", (text,))


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "reverie.lock"
    }


def test_the_key_lives_in_the_keyring_and_the_ledger_is_not_sqlite_plaintext(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store = Store(tmp_path, MODEL, Unlocker(secure_keyring(), None))
    write_memory_row(store, "a private thought")
    store.close()
    assert (tmp_path / "ledger.db").read_bytes()[:16] != b"SQLite format 3\x00"
    assert b"a private thought" not in (tmp_path / "ledger.db").read_bytes()
    recipe = keys.read_recipes(tmp_path)[0]  # type: ignore[index]
    assert recipe.method == "keyring"
    assert (keys.KEYRING_SERVICE, recipe.keyring_user) in memory_keyring.entries
    assert "a private thought" not in (tmp_path / keys.KEY_FILE).read_text()


def test_no_secure_keyring_and_no_passphrase_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(PassphraseRequired, match="needs a passphrase"):
        Store(tmp_path, MODEL, passphrases(None))
    assert not (tmp_path / "ledger.db").exists()
    assert not (tmp_path / keys.KEY_FILE).exists()


def test_plaintext_and_failing_keyrings_are_not_secure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring

    class PlaintextKeyring(MemoryKeyring):
        __module__ = "keyrings.alt.file"

    keyring.set_keyring(PlaintextKeyring())
    assert secure_keyring() is None
    keyring.set_keyring(fail.Keyring())
    assert secure_keyring() is None


def test_a_wrong_passphrase_opens_nothing_and_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path, MODEL, passphrases("right horse battery"))
    write_memory_row(store, "kept")
    store.close()
    before = digest(tmp_path)
    unlocker = passphrases("wrong horse one", "wrong horse two", "wrong horse three")
    with pytest.raises(WrongKey, match="wrong passphrase"):
        Store(tmp_path, MODEL, unlocker)
    assert unlocker.asked == [  # type: ignore[attr-defined]
        PassphraseRequest.UNLOCK, PassphraseRequest.RETRY, PassphraseRequest.RETRY
    ]
    assert digest(tmp_path) == before
    # A retry with the right one succeeds.
    store = Store(tmp_path, MODEL, passphrases("wrong horse one", "right horse battery"))
    assert store.meta("probe") == "kept"
    store.close()


def test_change_passphrase_then_move_to_the_keyring(tmp_path: Path) -> None:
    store = Store(tmp_path, MODEL, passphrases("first passphrase"))
    write_memory_row(store, "survives every key change")
    store.change_key(passphrases("second passphrase"), to_keyring=False)
    assert store.meta("probe") == "survives every key change"
    store.close()
    with pytest.raises(WrongKey):
        Store(tmp_path, MODEL, passphrases(*["first passphrase"] * 3))
    store = Store(tmp_path, MODEL, passphrases("second passphrase"))
    store.change_key(Unlocker(secure_keyring(), None), to_keyring=True)
    store.close()
    store = Store(tmp_path, MODEL, Unlocker(secure_keyring(), None))
    assert store.meta("probe") == "survives every key change"
    assert [r.method for r in keys.read_recipes(tmp_path) or []] == ["keyring"]
    store.close()
    assert not (tmp_path / "ledger.db.next").exists()


def test_an_interrupted_key_change_opens_with_either_passphrase(tmp_path: Path) -> None:
    store = Store(tmp_path, MODEL, passphrases("old passphrase"))
    write_memory_row(store, "still here")
    old = keys.read_recipes(tmp_path)[0]  # type: ignore[index]
    # Crash after the copy and the two-recipe key.json, before the swap.
    new, new_key = passphrases("new passphrase").create(prefer_keyring=False)
    store.ledger.export_to(tmp_path / "ledger.db.next", new_key)
    keys.write_recipes(tmp_path, [new, old])
    store.close()
    store = Store(tmp_path, MODEL, passphrases("old passphrase"))
    assert store.meta("probe") == "still here"
    store.close()
    assert keys.read_recipes(tmp_path) == [old]
    assert not (tmp_path / "ledger.db.next").exists()


def test_a_keyring_that_lost_the_key_is_reported_not_replaced(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    Store(tmp_path, MODEL, Unlocker(secure_keyring(), None)).close()
    memory_keyring.entries.clear()
    before = digest(tmp_path)
    with pytest.raises(StoreError, match="keyring has no key"):
        Store(tmp_path, MODEL, Unlocker(secure_keyring(), None))
    assert digest(tmp_path) == before


def test_a_ledger_from_before_encryption_is_encrypted_in_place(tmp_path: Path) -> None:
    conn = open_keyed(tmp_path / "ledger.db", NO_KEY_PRAGMA)
    conn.executescript(f"BEGIN;{MIGRATIONS[0]};PRAGMA user_version = 1;COMMIT;")
    conn.execute(
        "INSERT INTO sources VALUES ('chat:1', 'chat', 'old talk', 'user-import', '2026')"
    )
    conn.close()
    store = Store(tmp_path, MODEL, passphrases("now encrypted"))
    assert store.ledger.query("SELECT name FROM sources")[0][0] == "old talk"
    store.close()
    raw = (tmp_path / "ledger.db").read_bytes()
    assert b"old talk" not in raw
    assert raw[:16] != b"SQLite format 3\x00"
    # The migration to the current schema kept a backup first, encrypted too.
    backups = list((tmp_path / "backups").glob("*.db"))
    assert len(backups) == 1
    assert b"old talk" not in backups[0].read_bytes()
