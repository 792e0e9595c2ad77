"""Where the benchmark scripts beside bench/run.py leave their tables: one Markdown file each under
bench/results/, committed with latest.md after a `make bench` run."""

import os
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_result(path, title, script, lines):
    """Writes `lines` (what the script printed) under a heading that says when, from what and at what load."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    body = [f"# {title}", "", f"`{script}` (run by `make bench`) on {stamp}; load average at the end {load}.", "",
            "```" if not lines[-1].startswith("|") else "", *lines, "```" if not lines[-1].startswith("|") else ""]
    path.write_text("\n".join(line for line in body if line is not None) + "\n", encoding="utf-8")
    print(f"written to {path}")
