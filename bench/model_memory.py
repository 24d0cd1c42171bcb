"""The memory a language model takes once loaded, against Reverie's estimate.

    python -m bench.model_memory [--model PATH]... [--contexts 2048,4096,8192]

Each model and context runs in a child process of its own, so that one model's pages
never count for the next: resident memory (VmRSS) is read before loading, after
loading, and after a short reply to a 300-token prompt. The estimate is
`placement.plan_placement`'s RAM figure for the CPU, from the header alone. The
bundled SmolLM2 is always measured; `--model` adds any GGUF file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

MIB = 1024 * 1024


def _rss() -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS: this benchmark needs Linux")


def measure(path: str, n_ctx: int) -> dict[str, float]:
    """Load `path` at `n_ctx` in this process; the figures in MiB."""
    import llama_cpp  # noqa: F401 - the runtime's own memory is not the model's

    from reverie.models.gguf import read_gguf
    from reverie.models.llm import LlamaCppLLM
    from reverie.models.placement import plan_placement

    info = read_gguf(path)
    estimate = plan_placement(info, n_ctx, [], offload_supported=False).ram_bytes
    before = _rss()
    model = LlamaCppLLM(path, n_ctx=n_ctx)
    model.load()
    loaded = _rss()
    model.chat([{"role": "user", "content": "Say hello. " * 100}], max_tokens=8)
    replied = _rss()
    model.close()
    return {"estimate": estimate / MIB, "loaded": (loaded - before) / MIB,
            "replied": (replied - before) / MIB, "file": info.file_bytes / MIB}


def main(argv: Sequence[str] | None = None) -> int:
    """Measure each model at each context in a fresh process; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], type=Path)
    parser.add_argument("--contexts", default="2048,4096,8192")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]))))
        return 0
    from reverie.models import BUNDLED_LLM

    models = [BUNDLED_LLM.verify(), *args.model]
    print("| model | context | file MiB | estimate MiB | resident after a reply MiB "
          "| estimate / measured |")
    print("|---|---|---|---|---|---|")
    for path in models:
        for n_ctx in (int(c) for c in args.contexts.split(",")):
            done = subprocess.run(
                [sys.executable, "-m", "bench.model_memory", "--child", str(path), str(n_ctx)],
                capture_output=True, text=True, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"| {Path(path).name} | {n_ctx} | {row['file']:.0f} | {row['estimate']:.0f}"
                  f" | {row['replied']:.0f} | {row['estimate'] / row['replied']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
