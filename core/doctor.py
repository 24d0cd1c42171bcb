"""`reverie doctor`: what this installation has and whether it works.

Reports each model (path, checksum, load time, a real generation or embedding), GPU
offload, the data directory and the keyring backend. It changes nothing and never
takes the data directory's lock.
"""

from __future__ import annotations

import json
import os
from typing import Any

from reverie.core.config import resolve_config_dir, resolve_data_dir
from reverie.core.store.keys import KEY_FILE, read_recipes, secure_keyring
from reverie.models import check_models, cpu_count, gpu_offload_supported, ram_total_bytes
from reverie.models.devices import Device, list_devices
from reverie.models.doctor import ModelCheck
from reverie.models.registry import BUNDLED_ID, ModelRegistry


def keyring_backend() -> str:
    """The keyring backend in use, and whether Reverie will keep its key there."""
    try:
        import keyring

        backend = keyring.get_keyring()
        secure = secure_keyring()
    except Exception as exc:  # any failure of the backend is exactly what we report
        return f"unavailable ({type(exc).__name__}: {exc}); a passphrase will be asked"
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    priority = getattr(backend, "priority", None)
    if secure is None:
        return f"{name} (not usable, priority {priority}); a passphrase will be asked"
    chosen = f"{type(secure).__module__}.{type(secure).__qualname__}"
    return f"{chosen} (usable, priority {getattr(secure, 'priority', None)})"


def data_dir_report(data_dir: str | os.PathLike[str] | None) -> dict[str, Any]:
    """Where the data directory is and what it holds, without opening the store."""
    directory = resolve_data_dir(data_dir)
    ledger = directory / "ledger.db"
    recipes = read_recipes(directory) if (directory / KEY_FILE).exists() else None
    return {
        "path": str(directory),
        "exists": directory.exists(),
        "ledger_bytes": ledger.stat().st_size if ledger.exists() else 0,
        "locked_with": None if not recipes else recipes[0].method,
    }


def _check_json(check: ModelCheck) -> dict[str, Any]:
    return {
        "name": check.name, "role": check.role,
        "path": str(check.path) if check.path else None,
        "sha256_ok": check.sha256_ok, "ok": check.ok, "error": check.error,
        "load_seconds": check.load_seconds, "sample": check.sample, "sample_ms": check.sample_ms,
        "gpu_offload": check.gpu_offload, "placement": check.placement, "notice": check.notice,
    }


def _check_lines(check: ModelCheck) -> list[str]:
    checksum = {True: "verified", False: "MISMATCH", None: "not checked"}[check.sha256_ok]
    lines = [f"{check.role}: {check.name}  [{'ok' if check.ok else 'PROBLEM'}]"]
    lines.append(f"  path:     {check.path or '(not found)'}")
    lines.append(f"  sha256:   {checksum}")
    if check.load_seconds is not None:
        lines.append(f"  load:     {check.load_seconds:.2f} s")
    if check.sample is not None:
        timing = f" ({check.sample_ms:.0f} ms)" if check.sample_ms is not None else ""
        lines.append(f"  sample:   {check.sample}{timing}")
    if check.placement is not None:
        lines.append(f"  placed:   {check.placement}")
    if check.notice is not None:
        lines.append(f"  notice:   {check.notice}")
    if check.error:
        lines.append(f"  error:    {check.error}")
    return lines


def _device_json(device: Device) -> dict[str, Any]:
    return {"name": device.name, "description": device.description, "kind": device.kind,
            "free_bytes": device.free_bytes, "total_bytes": device.total_bytes}


def _device_line(device: Device) -> str:
    return (f"  {device.name} ({device.kind}): {device.description}, "
            f"{device.free_bytes / 2**30:.1f} of {device.total_bytes / 2**30:.1f} GiB free")


def run_doctor(data_dir: str | os.PathLike[str] | None, *, as_json: bool = False) -> int:
    """Print the report; exit code 0 when every model works, 1 otherwise."""
    registry = ModelRegistry(resolve_config_dir())
    roles = registry.roles()
    chosen = [registry.get(i) for i in dict.fromkeys(roles.values()) if i != BUNDLED_ID]
    checks = check_models(added=chosen)
    ram = ram_total_bytes()
    data = data_dir_report(data_dir)
    found = list_devices()
    report: dict[str, Any] = {
        "models": [_check_json(c) for c in checks],
        "roles": roles,
        "devices": [_device_json(d) for d in found],
        "gpu_offload": gpu_offload_supported(),
        "cpus": cpu_count(),
        "ram_gib": round(ram / 2**30, 1) if ram else None,
        "data_dir": data,
        "keyring": keyring_backend(),
    }
    if as_json:
        print(json.dumps(report, indent=1))
    else:
        for check in checks:
            print("\n".join(_check_lines(check)))
        print("roles: " + ", ".join(f"{role} {model}" for role, model in roles.items()))
        print(f"GPU offload: {'yes' if report['gpu_offload'] else 'no'} in this llama-cpp build"
              f"  (CPUs: {report['cpus']}, RAM: {report['ram_gib']} GiB)")
        print("devices:\n" + "\n".join(_device_line(d) for d in found))
        state = f"{data['ledger_bytes']} bytes of ledger" if data["exists"] else "not created yet"
        if data["locked_with"]:
            state += f", encrypted, key from the {data['locked_with']}"
        print(f"data directory: {data['path']}  ({state})")
        print(f"keyring: {report['keyring']}")
    return 0 if all(c.ok for c in checks) else 1


