"""Privacy in core: never-remember rules (matching, kept in the store, enforced where turns
enter it, forgetting what already matches), the key's checks, and the app's settings file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reverie.core import privacy
from reverie.core.config import (
    SETTINGS_FILE,
    AppSettings,
    check_setting,
    load_app_settings,
    save_app_settings,
)
from reverie.core.errors import BadInput, StoreError, WrongKey
from reverie.core.privacy import KeyMethod, PrivacyRules, RuleKind, make_rule
from reverie.core.service import Reverie
from reverie.core.store import keys
from tests.doubles import ScriptedLLM
from tests.keyring_double import MemoryKeyring

SECRET = "my diagnosis came back"


def _texts(reverie: Reverie) -> list[str]:
    return [row["text"] for row in reverie.store.ledger.query("SELECT text FROM episodes")]


def _chat_file(path: Path, texts: list[str], conversation: str = "Sam and me") -> Path:
    lines = [
        {"conversation": conversation, "session": "1", "id": f"t{n}",
         "time": f"2026-03-02T19:{n:02d}:00", "speaker": "Alex", "text": text}
        for n, text in enumerate(texts)
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def _quiet_llm() -> ScriptedLLM:
    return ScriptedLLM(lambda _messages: "Noted.")


# --- rules ------------------------------------------------------------------------------


def test_text_rules_match_whole_words_in_any_case() -> None:
    rules = PrivacyRules((make_rule("text", "Bank"), make_rule("text", "blood   test")))
    assert rules.text_rule_for("my BANK card") is not None
    assert rules.text_rule_for("bank.") is not None
    assert rules.text_rule_for("by the embankment") is None
    assert rules.text_rule_for("the blood\ntest results") is not None
    assert rules.text_rule_for("blood tests") is None  # a whole word: "tests" is another
    assert rules.rules[1].value == "blood test"  # spaces tidied


def test_source_rules_name_titles_and_folders() -> None:
    rules = PrivacyRules((make_rule("source", "medical"),))
    assert rules.source_rule_for("Notes", ["/home/a/Medical/x.md"]) is not None
    assert rules.source_rule_for("Medical letters", []) is not None
    assert rules.source_rule_for("Notes", ["/home/a/paramedical/x.md"]) is None
    assert rules.text_rule_for("medical") is None  # a source rule is not about text


@pytest.mark.parametrize(("kind", "value", "why"), [
    ("text", "   ", "needs a word"),
    ("text", "?!…", "letter or digit"),
    ("text", "x" * 201, "at most"),
    ("colour", "red", "text or a source"),
])
def test_a_rule_that_cannot_be_one_is_refused_saying_why(kind: str, value: str,
                                                         why: str) -> None:
    with pytest.raises(BadInput, match=why):
        make_rule(kind, value)


def test_the_same_rule_twice_is_refused() -> None:
    rules = PrivacyRules((make_rule("text", "Bank"),))
    with pytest.raises(BadInput, match="already"):
        rules.added(make_rule("text", "bank"))
    assert len(rules.added(make_rule("source", "bank")).rules) == 2


def test_rules_are_kept_in_the_store(open_store: Callable[..., Reverie], tmp_path: Path) -> None:
    reverie = open_store()
    rules = PrivacyRules((make_rule("text", "diagnosis"), make_rule("source", "Medical")))
    reverie.set_privacy_rules(rules)
    reverie.close()
    again = open_store(data_dir=tmp_path / "data")
    assert again.privacy_rules() == rules
    with again.store.ledger.transaction() as conn:  # damaged: refused, not read as none
        conn.execute("UPDATE meta SET value = '[{\"kind\": 3}]' WHERE key = ?",
                     (privacy.RULES_KEY,))
    with pytest.raises(StoreError, match="never-remember rules are unreadable"):
        again.privacy_rules()


# --- enforced where turns enter ---------------------------------------------------------


def test_an_import_never_stores_or_extracts_a_covered_turn(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store(llm=_quiet_llm())
    reverie.set_privacy_rules(PrivacyRules((make_rule("text", "diagnosis"),)))
    chat = _chat_file(tmp_path / "chat.jsonl", ["I went climbing today.", SECRET.upper(),
                                                "Then dinner with Sam."])
    report = reverie.import_file(chat, extract=False)
    assert report.episodes_added == 2
    assert sorted(_texts(reverie)) == ["I went climbing today.", "Then dinner with Sam."]
    assert not reverie.store.ledger.query("SELECT 1 FROM fts WHERE fts MATCH 'diagnosis'")
    assert privacy.withheld_count(reverie.store.ledger) == 1
    reverie.import_file(chat, extract=False)  # again: still kept out, nothing else added
    assert len(_texts(reverie)) == 2
    assert privacy.withheld_count(reverie.store.ledger) == 2


def test_a_watched_folder_named_by_a_rule_is_never_read_in(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    (folder / "Medical").mkdir(parents=True)
    (folder / "Medical" / "letter.md").write_text("Results of the scan: all clear.\n")
    (folder / "garden.md").write_text("The tomatoes are ripe this week.\n")
    reverie = open_store(llm=_quiet_llm())
    reverie.set_privacy_rules(PrivacyRules((make_rule("source", "medical"),)))
    reverie.capture.add(folder)
    reverie.capture.scan()
    texts = " ".join(_texts(reverie))
    assert "tomatoes" in texts
    assert "scan" not in texts
    assert privacy.withheld_count(reverie.store.ledger) == 1


def test_a_chat_message_a_rule_covers_is_answered_but_never_stored(
    open_store: Callable[..., Reverie]
) -> None:
    reverie = open_store(llm=_quiet_llm())
    reverie.set_privacy_rules(PrivacyRules((make_rule("text", "diagnosis"),)))
    conversation = reverie.new_conversation()
    private = reverie.chat(conversation, f"Guess what: {SECRET}")
    assert private.text  # answered all the same
    assert private.changes.episodes_added == 0
    assert len(conversation.history) == 2  # the exchange goes on in this session
    assert not any("diagnosis" in text for text in _texts(reverie))
    ordinary = reverie.chat(conversation, "I planted beans today")
    assert ordinary.changes.episodes_added == 2  # this turn and its answer
    assert not any("diagnosis" in text for text in _texts(reverie))
    assert privacy.withheld_count(reverie.store.ledger) == 2


def test_what_already_matches_is_offered_for_forgetting_not_forgotten(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store(llm=_quiet_llm())
    chat = _chat_file(tmp_path / "chat.jsonl", ["Lunch was good.", SECRET,
                                                "The Diagnosis was wrong, luckily."])
    reverie.import_file(chat, extract=False)
    rule = make_rule("text", "diagnosis")
    reverie.set_privacy_rules(PrivacyRules((rule,)))
    assert len(_texts(reverie)) == 3  # adding the rule forgets nothing by itself
    plan = reverie.plan_forget_matching(rule)
    assert len(plan.episode_ids) == 2
    reverie.memories.forget(plan)
    assert _texts(reverie) == ["Lunch was good."]
    assert reverie.plan_forget_matching(rule).empty


def test_sources_a_rule_names_are_found_for_forgetting(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store(llm=_quiet_llm())
    reverie.import_file(_chat_file(tmp_path / "a.jsonl", ["Hello."], "Therapy notes"),
                        extract=False)
    reverie.import_file(_chat_file(tmp_path / "b.jsonl", ["Hi."], "Garden club"),
                        extract=False)
    plan = reverie.plan_forget_matching(make_rule(RuleKind.SOURCE, "therapy notes"))
    names = {row["name"] for row in reverie.store.ledger.query("SELECT id, name FROM sources")
             if row["id"] in plan.source_ids}
    assert names == {"Therapy notes"}


# --- the key ----------------------------------------------------------------------------


def test_unlock_reads_the_keyring_afresh(
    open_store: Callable[..., Reverie], memory_keyring: MemoryKeyring
) -> None:
    reverie = open_store(llm=_quiet_llm())
    assert privacy.key_method(reverie.data_dir) is KeyMethod.KEYRING
    assert privacy.unlock_check(reverie.data_dir, None)
    saved = dict(memory_keyring.entries)
    memory_keyring.entries.clear()  # the keyring lost the key (or was reset)
    assert not privacy.unlock_check(reverie.data_dir, None)
    memory_keyring.entries.update(saved)
    assert privacy.unlock_check(reverie.data_dir, None)


def test_a_weak_or_wrong_passphrase_changes_nothing(
    open_store: Callable[..., Reverie], tmp_path: Path
) -> None:
    reverie = open_store(llm=_quiet_llm())
    reverie.change_key(privacy.new_key_unlocker("first passphrase", False), to_keyring=False)
    assert privacy.key_method(reverie.data_dir) is KeyMethod.PASSPHRASE
    recipe_before = (reverie.data_dir / keys.KEY_FILE).read_text()
    with pytest.raises(BadInput, match="at least 8"):
        privacy.new_key_unlocker("short", False)
    with pytest.raises(WrongKey, match="not the passphrase"):
        privacy.check_passphrase(reverie.data_dir, "not it at all")
    assert (reverie.data_dir / keys.KEY_FILE).read_text() == recipe_before
    assert privacy.unlock_check(reverie.data_dir, "first passphrase")
    assert not privacy.unlock_check(reverie.data_dir, "First passphrase")


# --- the app's settings file ------------------------------------------------------------


def test_settings_round_trip_and_default_when_missing(tmp_path: Path) -> None:
    assert load_app_settings(tmp_path).settings == AppSettings()
    chosen = AppSettings(lock_minutes=15, nightly_time="01:30", consolidate_when_idle=False)
    save_app_settings(tmp_path, chosen)
    loaded = load_app_settings(tmp_path)
    assert loaded == type(loaded)(chosen, ())
    assert (loaded.settings.nightly_hour, loaded.settings.nightly_minute) == (1, 30)


def test_bad_values_name_their_field_fall_back_and_keep_the_file(tmp_path: Path) -> None:
    path = tmp_path / SETTINGS_FILE
    text = json.dumps({"lock_minutes": 7, "nightly_time": "25:00",
                       "consolidate_when_idle": False, "colour": "red"})
    path.write_text(text)
    loaded = load_app_settings(tmp_path)
    assert loaded.settings == AppSettings(consolidate_when_idle=False)
    assert [p.split(":")[1].split()[0] for p in loaded.problems] == [
        "lock_minutes", "nightly_time", "'colour'"]
    assert path.read_text() == text  # reading never rewrites it
    save_app_settings(tmp_path, loaded.settings)
    assert (tmp_path / (SETTINGS_FILE + ".bad")).read_text() == text
    assert load_app_settings(tmp_path).problems == ()


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_an_unreadable_settings_file_gives_the_defaults(tmp_path: Path, text: str) -> None:
    (tmp_path / SETTINGS_FILE).write_text(text)
    loaded = load_app_settings(tmp_path)
    assert loaded.settings == AppSettings()
    assert loaded.problems


@pytest.mark.parametrize(("name", "value"), [
    ("lock_minutes", True), ("lock_minutes", "5"), ("nightly_time", "3:00"),
    ("nightly_time", "03:60"), ("consolidate_when_idle", "yes"),
])
def test_each_field_refuses_what_it_cannot_hold(name: str, value: object) -> None:
    with pytest.raises(BadInput, match=name):
        check_setting(name, value)
