"""The Settings screen's work, as functions of the facade: what runs inside its jobs.

They run on a worker thread and see only the facade and the job's context. Reads
(`read_privacy`) run in `Lane.STATUS`; the writes (rules, the key, the settings file,
a forget) in `Lane.CARE`, beside a long import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reverie.core import privacy
from reverie.core.config import AppSettings, save_app_settings
from reverie.core.privacy import KeyMethod, PrivacyRules, Rule
from reverie.core.service import Reverie
from reverie.core.store.forget import ForgetPlan
from reverie.desktop.care_work import CareOutcome
from reverie.desktop.jobs import Job, JobContext, JobRunner, Lane
from reverie.desktop.labels import plural

log = logging.getLogger("reverie.desktop.settings")



def start_when_free(runner: JobRunner, lane: Lane, name: str, work: Callable[..., Any], *,
                    writes: bool, then: Callable[[Job], None]) -> None:
    """Start a job as soon as `lane` is free (see `JobRunner.run_when_free`)."""
    if runner.facade is not None:
        runner.run_when_free(lane, name, work, writes=writes, then=then)


@dataclass(frozen=True)
class PrivacySnapshot:
    """What the Privacy tabs show, read at one moment."""

    key_method: KeyMethod
    keyring_available: bool
    rules: PrivacyRules
    withheld: int
    capture_paused: bool


def read_privacy(facade: Reverie, _ctx: JobContext) -> PrivacySnapshot:
    """Where the key is, whether a keyring could hold it, the rules and their count.

    A job: asking the OS for its keyring may talk to a desktop service."""
    return PrivacySnapshot(
        privacy.key_method(facade.data_dir), privacy.keyring_available(),
        facade.privacy_rules(), privacy.withheld_count(facade.store.ledger),
        facade.capture_paused)


def save_settings(config_dir: Path, settings: AppSettings) -> Callable[[Reverie, JobContext],
                                                                        AppSettings]:
    """A job writing the app's settings file; returns what it wrote."""

    def work(_facade: Reverie, _ctx: JobContext) -> AppSettings:
        save_app_settings(config_dir, settings)
        return settings

    return work


def change_key(current: str | None, new: str | None,
               to_keyring: bool) -> Callable[[Reverie, JobContext], KeyMethod]:
    """A job moving the key to the keyring (`to_keyring`) or under the passphrase `new`.

    With the key under a passphrase now, `current` must be that passphrase: a wrong one
    is refused before anything is written, as is a weak new one."""

    def work(facade: Reverie, _ctx: JobContext) -> KeyMethod:
        if current is not None:
            privacy.check_passphrase(facade.data_dir, current)
        unlocker = privacy.new_key_unlocker(new, to_keyring)
        facade.change_key(unlocker, to_keyring=to_keyring)
        return privacy.key_method(facade.data_dir)

    return work


def set_rules(rules: PrivacyRules) -> Callable[[Reverie, JobContext], PrivacyRules]:
    """A job replacing the never-remember rules; returns them."""

    def work(facade: Reverie, _ctx: JobContext) -> PrivacyRules:
        facade.set_privacy_rules(rules)
        return facade.privacy_rules()

    return work


def plan_matching(rule: Rule) -> Callable[[Reverie, JobContext], ForgetPlan]:
    """A job listing what is already stored that `rule` covers (writes nothing)."""

    def work(facade: Reverie, _ctx: JobContext) -> ForgetPlan:
        return facade.plan_forget_matching(rule)

    return work


def forget(plan: ForgetPlan) -> Callable[[Reverie, JobContext], CareOutcome]:
    """A job forgetting what the user confirmed in the preview."""

    def work(facade: Reverie, ctx: JobContext) -> CareOutcome:
        changes = facade.memories.forget(plan, progress=ctx.progress, cancel=ctx.cancel)
        turns = plural(len(plan.episode_ids), "turn or passage", "turns and passages")
        memories = plural(len(plan.memory_ids), "memory", "memories")
        return CareOutcome(f"Forgot {turns} and {memories}", changes)

    return work


def set_capture_paused(paused: bool) -> Callable[[Reverie, JobContext], bool]:
    """A job pausing or resuming all capture: the tray's own, so both do the same."""
    # Imported here: the tray module imports the main window, which imports this one.
    from reverie.desktop.tray import set_capture_paused as tray_job

    return tray_job(paused)
