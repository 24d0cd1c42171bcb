"""Privacy: the never-remember rules, and where the store's key lives.

**Rules.** The user lists words or phrases, and source or folder names, that Reverie
must never remember. They are data, not app settings: they live in the ledger's `meta`
table (encrypted with everything else), so a backup or another machine opening the
store keeps them, and the CLI sees the same list. Matching is case-insensitive and by
whole words: the rule "bank" covers "Bank" and "my bank card", not "embankment"; the
spaces of a phrase match any run of white space.

They are enforced where turns enter the store: `capture/importer.write_parsed` (every
import and every watched file passes there) drops each new turn or passage a text rule
covers, and every new piece of a source whose title, key or file path a source rule
names, before anything is embedded or written; the facade's chat stores neither side of
an exchange whose message a rule covers. What was already stored stays until the user
forgets it: `matching_target` finds it for the forget preview. How many pieces the rules
kept out is counted in `meta` (`withheld_count`).

**Key.** `key_method` says whether the ledger's key is in the OS keyring or derived from
a passphrase (from `key.json`, which holds nothing secret); `unlock_check` is what the
app's lock screen asks to come back: the passphrase again, or the keyring read afresh.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePath
from typing import Any

from reverie.core.capture.sync import SourcePlan
from reverie.core.errors import BadInput, StoreError, WrongKey
from reverie.core.store import keys
from reverie.core.store.forget import ForgetTarget
from reverie.core.store.ledger import Ledger, key_pragma, open_keyed
from reverie.core.store.vault import LEDGER_FILE, verify_passphrase

RULES_KEY = "privacy_rules"  # meta: JSON list of {"kind", "value"}
WITHHELD_KEY = "privacy_withheld"  # meta: how many pieces the rules kept out, ever
MAX_RULE_CHARS = 200
MAX_RULES = 500
_CHUNK = 500


class RuleKind(enum.StrEnum):
    """What a rule is matched against."""

    TEXT = "text"  # a word or phrase in a turn or passage
    SOURCE = "source"  # a conversation's or document's name, or a folder in its path


@dataclass(frozen=True)
class Rule:
    """One never-remember rule."""

    kind: RuleKind
    value: str

    def describe(self) -> str:
        """How the Settings screen lists it."""
        if self.kind is RuleKind.TEXT:
            return f"Text containing “{self.value}”"
        return f"Source or folder named “{self.value}”"

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The whole-word, case-insensitive pattern of its value."""
        words = r"\s+".join(re.escape(word) for word in self.value.split())
        return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)

    def matches_text(self, text: str) -> bool:
        """True when `text` holds the rule's words (text rules only)."""
        return self.kind is RuleKind.TEXT and self.pattern.search(text) is not None

    def matches_names(self, title: str, paths: Iterable[str]) -> bool:
        """True when a source rule names the title (a phrase in it) or a folder or file
        in one of the paths (a whole part of it, case-insensitive)."""
        if self.kind is not RuleKind.SOURCE:
            return False
        if self.pattern.search(title):
            return True
        wanted = self.value.casefold()
        return any(part.casefold() == wanted
                   for path in paths for part in PurePath(path).parts)


def make_rule(kind: RuleKind | str, value: str) -> Rule:
    """A rule from what the user typed, tidied; `BadInput` saying why it cannot be one."""
    try:
        rule_kind = RuleKind(kind)
    except ValueError:
        raise BadInput(f"a never-remember rule is about text or a source, not {kind!r}") from None
    tidy = " ".join(value.split())
    if not tidy:
        raise BadInput("a never-remember rule needs a word, a phrase or a name")
    if len(tidy) > MAX_RULE_CHARS:
        raise BadInput(f"a never-remember rule is at most {MAX_RULE_CHARS} characters")
    if not any(ch.isalnum() for ch in tidy):
        raise BadInput("a never-remember rule needs at least one letter or digit")
    return Rule(rule_kind, tidy)


@dataclass(frozen=True)
class PrivacyRules:
    """The user's never-remember rules, in the order they were added."""

    rules: tuple[Rule, ...] = ()

    def text_rule_for(self, text: str) -> Rule | None:
        """The first text rule `text` matches, or None."""
        return next((rule for rule in self.rules if rule.matches_text(text)), None)

    def source_rule_for(self, title: str, paths: Iterable[str]) -> Rule | None:
        """The first source rule naming this source or one of its paths, or None."""
        listed = tuple(paths)
        return next((r for r in self.rules if r.matches_names(title, listed)), None)

    def added(self, rule: Rule) -> PrivacyRules:
        """These rules and `rule` (refused when the same rule is already there)."""
        if any(r.kind is rule.kind and r.value.casefold() == rule.value.casefold()
               for r in self.rules):
            raise BadInput(f"“{rule.value}” is already a never-remember rule")
        if len(self.rules) >= MAX_RULES:
            raise BadInput(f"at most {MAX_RULES} never-remember rules")
        return PrivacyRules((*self.rules, rule))

    def without(self, rule: Rule) -> PrivacyRules:
        """These rules less `rule`."""
        return PrivacyRules(tuple(r for r in self.rules if r != rule))


# --- persistence ------------------------------------------------------------------------


def load_rules(ledger: Ledger) -> PrivacyRules:
    """The rules kept in the store (none yet: no rules)."""
    rows = ledger.query("SELECT value FROM meta WHERE key = ?", (RULES_KEY,))
    if not rows:
        return PrivacyRules()
    try:
        entries = json.loads(rows[0]["value"])
        return PrivacyRules(tuple(Rule(RuleKind(e["kind"]), str(e["value"])) for e in entries))
    except (ValueError, KeyError, TypeError) as exc:
        # Refused, not read as "no rules": that would let through what the user barred.
        raise StoreError(f"the store's never-remember rules are unreadable ({exc})") from None


def save_rules(ledger: Ledger, rules: PrivacyRules) -> None:
    """Replace the rules kept in the store."""
    document = json.dumps([{"kind": r.kind.value, "value": r.value} for r in rules.rules])
    with ledger.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (RULES_KEY, document))


def withheld_count(ledger: Ledger) -> int:
    """How many turns and passages the rules have kept out of the store so far."""
    rows = ledger.query("SELECT value FROM meta WHERE key = ?", (WITHHELD_KEY,))
    return int(rows[0]["value"]) if rows else 0


def count_withheld(conn: Any, n: int) -> None:
    """Add `n` to the withheld count, inside the caller's transaction."""
    if n:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE"
            " SET value = CAST(CAST(value AS INTEGER) + ?2 AS TEXT)", (WITHHELD_KEY, str(n)))


# --- enforcing at capture ---------------------------------------------------------------


def withhold(plans: Sequence[SourcePlan], rules: PrivacyRules,
             file_path: Path | None) -> tuple[list[SourcePlan], int]:
    """The plans without the new pieces the rules cover, and how many were dropped.

    Only additions are withheld: what is already stored, and the removals a changed
    document brings, are left as they are (forgetting is the user's choice).
    """
    if not rules.rules:
        return list(plans), 0
    paths = [str(file_path)] if file_path is not None else []
    kept: list[SourcePlan] = []
    dropped = 0
    for plan in plans:
        if not plan.add:
            kept.append(plan)
            continue
        if rules.source_rule_for(plan.title, paths) is not None:
            allowed: tuple[Any, ...] = ()
        else:
            allowed = tuple(e for e in plan.add if rules.text_rule_for(e.text) is None)
        dropped += len(plan.add) - len(allowed)
        kept.append(dataclasses.replace(plan, add=allowed))
    return kept, dropped


# --- what already matches ---------------------------------------------------------------


def matching_target(ledger: Ledger, rule: Rule) -> ForgetTarget:
    """Everything stored that `rule` covers, as a forget target (for the preview)."""
    if rule.kind is RuleKind.SOURCE:
        return ForgetTarget(source_ids=_matching_sources(ledger, rule))
    candidates: dict[str, list[str]] = {"episode": [], "memory": []}
    phrase = '"' + " ".join(rule.value.split()).replace('"', '""') + '"'
    # FTS5 finds the candidates (its stemming only widens the net); the rule's own
    # pattern then decides on the stored text itself.
    for row in ledger.query("SELECT item_id, kind FROM fts WHERE fts MATCH ?",
                            (f"text : {phrase}",)):
        candidates.setdefault(row["kind"], []).append(row["item_id"])
    episodes = _confirmed(ledger, "episodes", candidates["episode"], rule)
    memories = _confirmed(ledger, "memories", candidates["memory"], rule)
    return ForgetTarget(memory_ids=memories, episode_ids=episodes)


def _confirmed(ledger: Ledger, table: str, ids: list[str], rule: Rule) -> tuple[str, ...]:
    found: list[str] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = ledger.query(f"SELECT id, text FROM {table} WHERE id IN ({marks})", chunk)
        found.extend(row["id"] for row in rows if rule.matches_text(row["text"]))
    return tuple(sorted(found))


def _matching_sources(ledger: Ledger, rule: Rule) -> tuple[str, ...]:
    paths: dict[str, list[str]] = {}
    for row in ledger.query("SELECT source_id, path FROM file_sources"
                            " UNION SELECT source_id, path FROM imports"):
        paths.setdefault(row["source_id"], []).append(row["path"])
    rows = ledger.query("SELECT id, name FROM sources")
    return tuple(sorted(row["id"] for row in rows
                        if rule.matches_names(row["name"], paths.get(row["id"], []))))


# --- the key ----------------------------------------------------------------------------


class KeyMethod(enum.StrEnum):
    """Where the ledger's key comes from."""

    KEYRING = "keyring"
    PASSPHRASE = "passphrase"


def key_method(data_dir: Path) -> KeyMethod:
    """Whether the ledger's key is in the OS keyring or derived from a passphrase."""
    recipes = keys.read_recipes(data_dir)
    if not recipes:
        raise StoreError(f"{data_dir} has no key.json: its key cannot be told")
    return KeyMethod(recipes[0].method)


def keyring_available() -> bool:
    """True when this machine has a secure OS keyring to keep a key in."""
    return keys.secure_keyring() is not None


def check_passphrase(data_dir: Path, passphrase: str) -> None:
    """Raise `WrongKey` unless `passphrase` opens this data directory's ledger now."""
    if not passphrase or not verify_passphrase(data_dir, passphrase):
        raise WrongKey("that is not the passphrase of these memories; nothing was changed")


def unlock_check(data_dir: Path, passphrase: str | None) -> bool:
    """True when the user may come back: `passphrase` opens the ledger, or (None) the
    keyring, read afresh, still holds a key that does."""
    if passphrase is not None:
        return bool(passphrase) and verify_passphrase(data_dir, passphrase)
    recipes = [r for r in keys.read_recipes(data_dir) or [] if r.method == "keyring"]
    unlocker = keys.Unlocker(keys.secure_keyring(), None)
    for _recipe, key in unlocker.attempts(recipes):
        try:
            open_keyed(data_dir / LEDGER_FILE, key_pragma(key)).close()
        except WrongKey:
            continue
        return True
    return False


def new_key_unlocker(new_passphrase: str | None, to_keyring: bool) -> keys.Unlocker:
    """The unlocker `Reverie.change_key` needs: the keyring to move to (or to take the
    old key out of), and the new passphrase when there is one; a weak one is refused
    here, before anything is written."""
    weak = new_passphrase is None or len(new_passphrase) < keys.MIN_PASSPHRASE
    if not to_keyring and weak:
        raise BadInput(f"a passphrase needs at least {keys.MIN_PASSPHRASE} characters;"
                       " nothing was changed")
    ask = keys.fixed_passphrase(new_passphrase) if new_passphrase else None
    return keys.Unlocker(keys.secure_keyring(), ask)
