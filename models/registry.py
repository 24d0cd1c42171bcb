"""The models this machine has: the bundled one, those the user added, and which one
does each job.

Kept in `models.json` in the config folder (`core.config.resolve_config_dir`), beside
no user data. A model the user adds stays where it is (a few GB is not copied); its
header is read and checked on the way in (`gguf.read_gguf`), and what it said is
recorded with the file's size and modification time, so that a file changed or moved
since is noticed. Writes replace the file atomically; a file that cannot be read is
set aside, not overwritten, and the defaults are used meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reverie.core.errors import BadInput, ModelError
from reverie.models.bundled import BUNDLED_LLM
from reverie.models.gguf import GgufInfo, read_gguf
from reverie.models.llm import check_loadable

__all__ = ["BUNDLED_ID", "EMBEDDER", "MINILM_ID", "ROLES", "ModelEntry", "ModelRegistry"]

log = logging.getLogger("reverie.models.registry")

FILE_NAME = "models.json"
FORMAT, VERSION = "reverie-models", 1
ROLES = ("chat", "extraction", "consolidation")
"""What a language model does: answer in the chat, extract memories, consolidate."""
EMBEDDER = "embedder"
"""The role of the model that embeds text for search (bundled MiniLM unless chosen)."""
MINILM_ID = "minilm-l6-v2"
"""What `use embedder` calls the bundled MiniLM (an ONNX model, not in the list)."""
BUNDLED_ID = "smollm2-135m"
# Encoders embed; they cannot write a reply.
_NOT_CHAT = frozenset({"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "t5encoder",
                       "clip", "neo-bert", "modern-bert"})


@dataclass(frozen=True)
class ModelEntry:
    """One language model Reverie may use, as its header described it."""

    id: str
    path: str
    name: str
    architecture: str
    parameters: int
    quantization: str
    context_length: int | None
    has_chat_template: bool
    file_bytes: int
    mtime_ns: int
    added: str
    bundled: bool = False
    can_chat: bool = True
    """False for an embedding-only model (BERT family): it may only embed."""
    gpu_layers: int | None = None
    """The user's GPU layer count; None chooses from free memory at each load."""

    @property
    def problem(self) -> str | None:
        """Why the file cannot be used now (missing, changed and now unreadable)."""
        path = Path(self.path)
        try:
            stat = path.stat()
        except OSError:
            return f"the file is missing: {self.path}"
        if (stat.st_size, stat.st_mtime_ns) == (self.file_bytes, self.mtime_ns):
            return None
        try:
            read_gguf(path)
        except ModelError as error:
            return f"the file changed since it was added and is no longer usable: {error}"
        return None


class ModelRegistry:
    """Read and change `models.json`; every method is safe to call from any thread."""

    def __init__(self, config_dir: Path) -> None:
        """Use `config_dir/models.json` (created on the first change)."""
        self._file = config_dir / FILE_NAME
        self._lock = threading.Lock()
        self._bundled: ModelEntry | None = None

    @property
    def file(self) -> Path:
        """The JSON file the registry is kept in."""
        return self._file

    def entries(self) -> list[ModelEntry]:
        """Every model: the bundled one first, then the user's in the order added."""
        with self._lock:
            return self._entries(self._read())

    def get(self, model_id: str) -> ModelEntry:
        """The model called `model_id`; `BadInput` names the known ones otherwise."""
        entries = self.entries()
        for entry in entries:
            if entry.id == model_id:
                return entry
        known = ", ".join(e.id for e in entries)
        raise BadInput(f"no model called {model_id!r}; the models are: {known}")

    def roles(self) -> dict[str, str]:
        """Each role's model id (the bundled model where none was chosen)."""
        with self._lock:
            data = self._read()
        ids = {e.id for e in self._entries(data)}
        chosen = data.get("roles", {})
        return {role: chosen.get(role) if chosen.get(role) in ids else BUNDLED_ID
                for role in ROLES}

    def model_for(self, role: str) -> ModelEntry:
        """The model chosen for `role`."""
        _check_role(role)
        return self.get(self.roles()[role])

    def add(self, path: Path | str, *, name: str | None = None) -> tuple[ModelEntry, GgufInfo]:
        """Check `path`'s header and add it; returns the entry and what the header said.

        Refused, with the reason and nothing changed: a file that is not a readable
        GGUF model or that llama.cpp cannot open (`ModelError`), a file already added.
        An embedding-only model is added for the embedder role alone.
        """
        resolved = Path(path).expanduser().resolve()
        info = read_gguf(resolved)
        check_loadable(resolved)
        stat = resolved.stat()
        with self._lock:
            data = self._read()
            for entry in self._entries(data):
                if Path(entry.path) == resolved:
                    raise BadInput(f"{resolved} is already added, as {entry.id!r}")
            entry = ModelEntry(
                id=_unique_id(name or resolved.stem, {e.id for e in self._entries(data)}),
                path=str(resolved), name=name or info.name, architecture=info.architecture,
                parameters=info.parameters, quantization=info.quantization,
                context_length=info.context_length,
                has_chat_template=info.chat_template is not None,
                file_bytes=stat.st_size, mtime_ns=stat.st_mtime_ns,
                added=datetime.now(UTC).isoformat(timespec="seconds"),
                can_chat=info.architecture not in _NOT_CHAT,
            )
            data.setdefault("models", []).append(_stored(entry))
            self._write(data)
        log.info("added model %s from %s", entry.id, resolved)
        return entry, info

    def remove(self, model_id: str) -> list[str]:
        """Forget a user-added model (the file stays); returns the roles that go back
        to the bundled model. The bundled model cannot be removed."""
        entry = self.get(model_id)
        if entry.bundled:
            raise BadInput("the bundled model cannot be removed")
        with self._lock:
            data = self._read()
            data["models"] = [m for m in data.get("models", []) if m.get("id") != model_id]
            roles = data.get("roles", {})
            freed = [role for role, chosen in roles.items() if chosen == model_id]
            data["roles"] = {r: m for r, m in roles.items() if m != model_id}
            if data.get(EMBEDDER) == model_id:
                freed.append(EMBEDDER)
                del data[EMBEDDER]
            self._write(data)
        return freed

    def use(self, role: str, model_id: str) -> None:
        """Choose `model_id` for `role` ("all" for every language-model role, EMBEDDER
        for search, where MINILM_ID is the bundled default); kept across restarts."""
        if role == EMBEDDER:
            self._use_embedder(model_id)
            return
        roles = list(ROLES) if role == "all" else [role]
        for each in roles:
            _check_role(each)
        entry = self._usable(model_id)
        if not entry.can_chat:
            raise BadInput(f"{model_id} is an embedding model ({entry.architecture}): it "
                           f"can only be the {EMBEDDER}")
        with self._lock:
            data = self._read()
            data.setdefault("roles", {}).update(dict.fromkeys(roles, model_id))
            self._write(data)

    def embedder(self) -> ModelEntry | None:
        """The model chosen to embed text, or None for the bundled MiniLM."""
        with self._lock:
            data = self._read()
        chosen = data.get(EMBEDDER)
        return next((e for e in self._entries(data) if e.id == chosen), None)

    def _use_embedder(self, model_id: str) -> None:
        if model_id != MINILM_ID:
            self._usable(model_id)
        with self._lock:
            data = self._read()
            if model_id == MINILM_ID:
                data.pop(EMBEDDER, None)
            else:
                data[EMBEDDER] = model_id
            self._write(data)

    def _usable(self, model_id: str) -> ModelEntry:
        entry = self.get(model_id)
        if entry.problem is not None:
            raise BadInput(f"{model_id} cannot be used: {entry.problem}")
        return entry

    def set_gpu_layers(self, model_id: str, layers: int | None) -> None:
        """Fix how many layers of `model_id` go to the GPU (None: choose each load)."""
        self.get(model_id)
        with self._lock:
            data = self._read()
            overrides = data.setdefault("gpu_layers", {})
            if layers is None:
                overrides.pop(model_id, None)
            else:
                overrides[model_id] = layers
            self._write(data)

    def _entries(self, data: dict[str, Any]) -> list[ModelEntry]:
        overrides = data.get("gpu_layers", {})
        entries = [self._bundled_entry(), *(_loaded(m) for m in data.get("models", []))]
        return [replace(e, gpu_layers=overrides.get(e.id)) for e in entries]

    def _bundled_entry(self) -> ModelEntry:
        if self._bundled is None:
            path = BUNDLED_LLM.locate()
            info, stat = read_gguf(path), path.stat()
            self._bundled = ModelEntry(
                id=BUNDLED_ID, path=str(path), name="SmolLM2 135M Instruct (bundled)",
                architecture=info.architecture, parameters=info.parameters,
                quantization=info.quantization, context_length=info.context_length,
                has_chat_template=info.chat_template is not None, file_bytes=stat.st_size,
                mtime_ns=stat.st_mtime_ns, added="", bundled=True,
            )
        return self._bundled

    def _read(self) -> dict[str, Any]:
        try:
            text = self._file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise ModelError(f"cannot read {self._file}: {error.strerror}") from error
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("not a reverie-models file")
            for stored in data.get("models", []):
                _loaded(stored)
        except (ValueError, TypeError, KeyError) as error:
            aside = self._file.with_name(f"{FILE_NAME}.unreadable-{os.getpid()}")
            os.replace(self._file, aside)
            log.error("%s could not be read (%s); kept as %s, defaults used", self._file,
                      error, aside)
            return {}
        return data

    def _write(self, data: dict[str, Any]) -> None:
        data["format"], data["version"] = FORMAT, VERSION
        self._file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self._file.parent, prefix=".models-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(data, stream, indent=1)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self._file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadInput(f"no role called {role!r}; the roles are: {', '.join(ROLES)}, "
                       f"{EMBEDDER} (or all)")


def _unique_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "model"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _stored(entry: ModelEntry) -> dict[str, Any]:
    stored = asdict(entry)
    del stored["bundled"], stored["gpu_layers"]
    return stored


def _loaded(stored: dict[str, Any]) -> ModelEntry:
    return ModelEntry(**stored)
