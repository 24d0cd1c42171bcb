"""The ledger's key: random and kept in the OS keyring, or derived from a passphrase.

`key.json` in the data directory says how to get the key ("recipes"); it holds nothing
secret: a keyring entry name, or a salt and scrypt costs. There is never a plaintext
fallback: with no usable keyring and no passphrase, opening stops with
`PassphraseRequired`.

While the key is being changed, `key.json` lists the new recipe first and the old one
after it, so a crash at any point leaves a ledger that one of them opens.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reverie.core.errors import PassphraseRequired, StoreError, WrongKey

log = logging.getLogger("reverie.keys")

KEY_FILE = "key.json"
KEYRING_SERVICE = "Reverie"
KEY_BYTES = 32
# scrypt at 128 MiB and ~0.4 s on a 2-core laptop: memory-hard, so a stolen data
# directory cannot be brute-forced cheaply on GPUs.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
PASSPHRASE_TRIES = 3
MIN_PASSPHRASE = 8


class PassphraseRequest(enum.Enum):
    """Why Reverie asks for a passphrase."""

    CREATE = "create"  # choose a new one (the asker should confirm it)
    UNLOCK = "unlock"
    RETRY = "retry"  # the last one was wrong


AskPassphrase = Callable[[PassphraseRequest], str | None]


@dataclass(frozen=True)
class KeyRecipe:
    """How to get one key; nothing in it is secret."""

    method: str  # "keyring" or "passphrase"
    keyring_user: str | None = None
    salt: str | None = None
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def derive(self, passphrase: str) -> bytes:
        """The key this passphrase gives under this recipe's salt and costs."""
        if self.salt is None:
            raise StoreError("key.json: a passphrase recipe without a salt")
        return hashlib.scrypt(
            passphrase.encode("utf-8"), salt=bytes.fromhex(self.salt),
            n=self.n, r=self.r, p=self.p, maxmem=256 * 2**20, dklen=KEY_BYTES,
        )


def read_recipes(data_dir: Path) -> list[KeyRecipe] | None:
    """The recipes in `key.json`, newest first; None when the directory has none."""
    path = data_dir / KEY_FILE
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [KeyRecipe(**entry) for entry in document["recipes"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{path} is unreadable ({exc}); the ledger cannot be unlocked") from None


def write_recipes(data_dir: Path, recipes: list[KeyRecipe]) -> None:
    """Replace `key.json` atomically and durably."""
    path = data_dir / KEY_FILE
    partial = path.with_name(KEY_FILE + ".partial")
    document = {"version": 1, "recipes": [asdict(r) for r in recipes]}
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    fsync_dir(data_dir)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (a no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def secure_keyring() -> Any | None:
    """The OS keyring backend if it is one that keeps secrets safe, else None.

    Refused: keyring's fail and null backends and every backend of `keyrings.alt`
    (files on disk, plaintext or with a weak home-made cipher).
    """
    import keyring
    from keyring.backends import chainer

    backend = keyring.get_keyring()
    candidates = backend.backends if isinstance(backend, chainer.ChainerBackend) else [backend]
    for candidate in candidates:
        if _is_secure(candidate):
            return candidate
    return None


def _is_secure(backend: Any) -> bool:
    module = type(backend).__module__
    if module.startswith("keyrings.alt") or module in {
        "keyring.backends.fail", "keyring.backends.null", "keyring.backends.chainer"
    }:
        return False
    try:
        return float(backend.priority) >= 1
    except Exception:  # a backend whose priority check fails is not usable here
        return False


def passphrase_needed(data_dir: Path, keyring_backend: Any | None) -> PassphraseRequest | None:
    """Which passphrase opening `data_dir` will ask for, if any (reads key.json only)."""
    recipes = read_recipes(data_dir)
    if recipes is None:
        return None if keyring_backend is not None else PassphraseRequest.CREATE
    if keyring_backend is not None and any(r.method == "keyring" for r in recipes):
        return None
    if any(r.method == "passphrase" for r in recipes):
        return PassphraseRequest.UNLOCK
    return None


def fixed_passphrase(passphrase: str) -> AskPassphrase:
    """An asker that gives `passphrase` once; asked again (it was wrong), it gives up."""

    def ask(request: PassphraseRequest) -> str | None:
        return None if request is PassphraseRequest.RETRY else passphrase

    return ask


PASSPHRASE_ENV = "REVERIE_PASSPHRASE"


def passphrase_from_env(request: PassphraseRequest) -> str | None:
    """The passphrase in `$REVERIE_PASSPHRASE`, for scripts and headless machines."""
    return os.environ.get(PASSPHRASE_ENV) or None


def default_unlocker(ask: AskPassphrase | None = passphrase_from_env) -> Unlocker:
    """The OS keyring when it is a secure one, else passphrases from `ask`."""
    return Unlocker(secure_keyring(), ask)


class Unlocker:
    """Produces keys for a data directory from the keyring or from passphrases."""

    def __init__(self, keyring_backend: Any | None, ask: AskPassphrase | None) -> None:
        self.keyring = keyring_backend
        self.ask = ask

    def create(self, prefer_keyring: bool = True) -> tuple[KeyRecipe, bytes]:
        """A new random key in the keyring, or else one derived from a new passphrase."""
        if prefer_keyring and self.keyring is not None:
            user = "ledger-" + secrets.token_hex(8)
            key = secrets.token_bytes(KEY_BYTES)
            self._keyring_set(user, key)
            return KeyRecipe(method="keyring", keyring_user=user), key
        passphrase = self._ask(PassphraseRequest.CREATE)
        if passphrase is None:
            raise PassphraseRequired(
                "this machine has no secure keyring (such as GNOME Keyring, KWallet, the "
                "macOS Keychain or Windows Credential Manager), so Reverie needs a "
                "passphrase to encrypt your memories; none was given, nothing was written"
            )
        if len(passphrase) < MIN_PASSPHRASE:
            raise PassphraseRequired(f"a passphrase needs at least {MIN_PASSPHRASE} characters")
        recipe = KeyRecipe(method="passphrase", salt=secrets.token_hex(16))
        return recipe, recipe.derive(passphrase)

    def attempts(self, recipes: list[KeyRecipe]) -> Iterator[tuple[KeyRecipe, bytes]]:
        """Candidate keys for the recipes; the caller tries each until one opens."""
        for recipe in recipes:
            if recipe.method == "keyring":
                key = self._keyring_get(recipe)
                if key is not None:
                    yield recipe, key
        by_passphrase = [r for r in recipes if r.method == "passphrase"]
        if not by_passphrase:
            return
        request = PassphraseRequest.UNLOCK
        for _ in range(PASSPHRASE_TRIES):
            passphrase = self._ask(request)
            if passphrase is None and request is PassphraseRequest.RETRY:
                raise WrongKey("wrong passphrase: the data stays locked, nothing was changed")
            if passphrase is None:
                raise PassphraseRequired(
                    "this data directory is locked with a passphrase and none was given"
                )
            for recipe in by_passphrase:
                yield recipe, recipe.derive(passphrase)
            request = PassphraseRequest.RETRY

    def forget(self, recipe: KeyRecipe) -> None:
        """Remove a recipe's keyring entry, if it has one and it can be reached."""
        if recipe.method != "keyring" or self.keyring is None or not recipe.keyring_user:
            return
        try:
            self.keyring.delete_password(KEYRING_SERVICE, recipe.keyring_user)
        except Exception as exc:  # an entry already gone is fine; say if another failure
            log.info("old keyring entry not removed: %s", type(exc).__name__)

    def _ask(self, request: PassphraseRequest) -> str | None:
        return self.ask(request) if self.ask is not None else None

    def _keyring_get(self, recipe: KeyRecipe) -> bytes | None:
        if self.keyring is None:
            raise StoreError(
                "this data directory's key is kept in the OS keyring, which is not "
                "available now; unlock the keyring (or log in to the desktop) and retry"
            )
        try:
            stored = self.keyring.get_password(KEYRING_SERVICE, recipe.keyring_user)
        except Exception as exc:
            raise StoreError(f"the OS keyring refused to give the key: {exc}") from None
        if stored is None:
            return None
        return bytes.fromhex(stored)

    def _keyring_set(self, user: str, key: bytes) -> None:
        if self.keyring is None:
            raise StoreError("no secure keyring to keep the key in")
        try:
            self.keyring.set_password(KEYRING_SERVICE, user, key.hex())
        except Exception as exc:
            raise StoreError(f"the OS keyring refused to keep the key: {exc}") from None


class PreparedUnlocker(Unlocker):
    """An unlocker whose first candidate key is produced ahead of opening.

    The app derives it while it is still importing its interface: scrypt releases the
    GIL, so the key costs no time on the path to the window. Only the first candidate
    is made early; the rest (and any retry) come as `Unlocker.attempts` makes them.
    """

    def __init__(self, inner: Unlocker, data_dir: Path) -> None:
        """Make `inner`'s first candidate key for `data_dir` now (none for a new store)."""
        super().__init__(inner.keyring, inner.ask)
        self._recipes = read_recipes(data_dir)
        self._pending: Iterator[tuple[KeyRecipe, bytes]] | None = None
        self._first: tuple[KeyRecipe, bytes] | None = None
        if self._recipes is not None:
            self._pending = inner.attempts(self._recipes)
            self._first = next(self._pending, None)

    def attempts(self, recipes: list[KeyRecipe]) -> Iterator[tuple[KeyRecipe, bytes]]:
        """The prepared candidates, or fresh ones if `recipes` are not those prepared for."""
        if recipes != self._recipes or self._pending is None:
            yield from super().attempts(recipes)
            return
        first, pending, self._first, self._pending = self._first, self._pending, None, None
        if first is not None:
            yield first
        yield from pending
