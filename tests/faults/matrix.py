"""Every AWS call site of the crisis scenario with every fault that can happen there: the table in
docs/faults.md.

    python -m tests.faults.matrix [--markdown]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.faults.harness import Faults, applicable, problems, run_in_fresh_account


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    markdown = parser.parse_args().markdown
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        discovery = Faults()
        clean = run_in_fresh_account(base / "clean", discovery)
        sites = sorted(discovery.calls, key=str)
        if markdown:
            print("| call site | throttle | conflict | 500 | timeout after effect |\n|---|---|---|---|---|")
        failures = 0
        for index, site in enumerate(sites):
            cells = []
            for fault in ("throttle", "conflict", "error500", "timeout_after"):
                if fault not in applicable(site):
                    cells.append("n/a")
                    continue
                faults = Faults(site, fault)
                try:
                    outcome = run_in_fresh_account(base / f"{index}-{fault}", faults)
                    found = problems(clean, outcome, faults)
                except Exception as exc:
                    found, outcome = [f"crashed: {type(exc).__name__}"], None
                failures += bool(found)
                twice = outcome is not None and any(outcome.sends[r] > n for r, n in clean.sends.items())
                cell = "at least once (alarmed)" if not found and twice else "ok"
                cells.append(cell if not found else "FAIL: " + "; ".join(found)[:120])
            if markdown:
                print(f"| `{site}` | " + " | ".join(cells) + " |", flush=True)
            else:
                print(f"{site!s:<62} " + "  ".join(f"{c:<5}" for c in cells), flush=True)
    print(f"\n{len(sites)} call sites, {failures} failing cells, {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
