"""Cold-start import time of each function's handler module, in fresh interpreters.

    python -m benchmarks.cold_start [--runs 9]

Each figure is the median over fresh ``python`` processes (compiled bytecode present, as after a first run)
of importing the handler module; ``+ first call`` adds what the first invocation builds (settings, the
boto3 DynamoDB client). ``import boto3`` alone, measured the same way, is the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

CHART = (
    "from datetime import UTC, datetime, timedelta\nfrom groundswell.domain.models import Bucket\n"
    "from groundswell.domain.alerting.chart import hourly_series\nfrom {module} import render_png\n"
    "now = datetime(2026, 11, 20, 15, tzinfo=UTC)\n"
    "b = [Bucket(brand='a', start=now - timedelta(minutes=5 * i), total=20, negative=3) for i in range(2592)]\n"
    "render_png(hourly_series(b, now), title='Acme Air', timezone='America/New_York', opened_at=now)"
)
SNIPPETS = {
    "baseline: import boto3": "import boto3",
    "dispatch_polls": "import functions.dispatch_polls.app",
    "poll_mentions": "import functions.poll_mentions.app",
    "poll_mentions + first call": (
        "import functions.poll_mentions.app\nfrom groundswell import runtime\nruntime.store(); runtime.scorer()"
    ),
    "ingest_push": "import functions.ingest_push.app",
    "detect_spikes": "import functions.detect_spikes.app",
    "detect_spikes + first cycle's imports": (
        "import functions.detect_spikes.app\nimport groundswell.domain.detection.cycle\n"
        "from groundswell import runtime\nruntime.store()"
    ),
    "notify": "import functions.notify.app\nimport groundswell.usecases.notify",
    "notify + first email's imports": (
        "import functions.notify.app\nimport groundswell.usecases.notify\nimport groundswell.domain.alerting.email\n"
        "from groundswell.domain.alerting.chart import render_png\nimport PIL.Image\nimport jinja2"
    ),
    "first chart (Pillow, shipped)": CHART.format(module="groundswell.domain.alerting.chart"),
    "first chart (matplotlib, before)": CHART.format(module="benchmarks.chart_matplotlib"),
    "alert_actions": "import functions.alert_actions.app\nimport groundswell.usecases.notify",
}
HEAVY = ("scipy.stats", "scipy.special", "numpy", "pandas", "aws_xray_sdk", "matplotlib", "jinja2", "PIL.Image")


def measure(code: str, runs: int) -> tuple[float, list[str]]:
    program = (
        "import time, sys\n_t = time.perf_counter()\n" + code + "\n"
        "print((time.perf_counter() - _t) * 1000)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {
        **os.environ,
        "TABLE_NAME": "cold-start",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    subprocess.run([sys.executable, "-c", program], env=env, check=True, capture_output=True)  # warm the .pyc
    times, heavy = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", program], env=env, check=True, capture_output=True, text=True)
        lines = out.stdout.splitlines()
        times.append(float(lines[-2]))
        heavy = [m for m in lines[-1].split(",") if m]
    return statistics.median(times), heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    print(f"median of {runs} fresh interpreters, milliseconds")
    medians: dict[str, float] = {}
    for name, code in SNIPPETS.items():
        median, heavy = measure(code, runs)
        medians[name] = median
        print(f"{name:<38}{median:>8.0f} ms   heavy modules loaded: {', '.join(heavy) or 'none'}")
    pillow, matplotlib = medians["first chart (Pillow, shipped)"], medians["first chart (matplotlib, before)"]
    print(f"first chart: Pillow takes {pillow / matplotlib:.2f}x the time of matplotlib in the same run")


if __name__ == "__main__":
    main()
