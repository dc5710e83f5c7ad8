"""Each function runs from what is shipped, not from the development environment: its CodeUri and
requirements, the layer (``ContentUri: shared/`` and its requirements) and what the Lambda runtime provides
(boto3), each installed as ``sam build`` lays them out, and nothing else on the path. Every handler is
imported and invoked once against the emulated stack (moto's server on 127.0.0.1), in a subprocess.

A lazy import of a package a function does not ship (numpy in the notifier, jinja2 in the detector, the CLI's
pyyaml in any function) fails here, not in Lambda. The packages are host wheels of the same pins (the
deployed ones are arm64 builds of them); ``test_the_build_ships_the_layer_as_laid_out_here`` checks the layout
against ``sam build``'s own output when there is one."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from infra.template_resources import load_template

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")  # Lambda's own
RUN = r"""
import json, sys, importlib
function_dir, layer_dir, runtime_dir, event = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
sys.path[:0] = [function_dir, layer_dir, runtime_dir]  # /var/task, /opt/python, the runtime's boto3

class Context:
    function_name = "shipped"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:shipped"
    aws_request_id = "00000000-0000-0000-0000-000000000001"
    def get_remaining_time_in_millis(self):
        return 60_000

app = importlib.import_module("app")
result = app.handler(event, Context())
outside = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)
                  and "site-packages" in m.__file__})
print(json.dumps({"result": result, "outside": outside}, default=str))
"""


def _functions() -> dict[str, dict[str, Any]]:
    resources = load_template()["Resources"]
    return {
        spec["Properties"]["CodeUri"].strip("/").split("/")[-1]: spec["Properties"]
        for spec in resources.values()
        if spec["Type"] == "AWS::Serverless::Function"
    }


def _install(requirements: Path, target: Path) -> None:
    lines = [line for line in requirements.read_text().splitlines() if line.strip() and not line.startswith("#")]
    target.mkdir(parents=True)
    if lines:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--only-binary=:all:",
                "--target",
                str(target),
                "-r",
                str(requirements),
            ],
            check=True,
        )


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The layer, the runtime's boto3 and each function's directory, laid out as Lambda sees them."""
    base = tmp_path_factory.mktemp("shipped")
    layer = base / "layer" / "python"
    _install(ROOT / "shared" / "requirements.txt", layer)
    shutil.copytree(
        ROOT / "shared" / "groundswell", layer / "groundswell", ignore=shutil.ignore_patterns("__pycache__")
    )
    runtime = base / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, f"{name} is not installed"
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (runtime / source.name).symlink_to(source)
    dirs = {"layer": layer, "runtime": runtime}
    for name, properties in _functions().items():
        code = ROOT / properties["CodeUri"]
        target = base / "functions" / name
        _install(code / "requirements.txt", target)
        shutil.copytree(code, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        dirs[name] = target
    return dirs


def _invoke(shipped: dict[str, Path], function: str, event: dict[str, Any]) -> dict[str, Any]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            RUN,
            str(shipped[function]),
            str(shipped["layer"]),
            str(shipped["runtime"]),
            json.dumps(event),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{function} failed from what is shipped:\n{done.stderr[-3000:]}"
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["outside"] == [], f"{function} imported from outside what it ships: {out['outside']}"
    return out["result"]


def test_every_function_of_the_template_is_tried() -> None:
    assert set(_functions()) == {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}


def test_each_handler_runs_from_what_is_shipped(shipped: dict[str, Path], tmp_path: Path) -> None:
    from groundswell import runtime
    from groundswell.domain.models import Brand
    from groundswell.domain.push import sign
    from infra.lambda_runtime import sqs_event
    from infra.local_stack import local_stack

    replay = tmp_path / "mentions.jsonl"
    replay.write_text(
        json.dumps({"id": "1", "text": "acme air lost my bag", "author": "a1", "created_at": "2026-11-20T14:00:00Z"})
        + "\n"
    )
    with local_stack():
        brand = {
            "name": "acme-air",
            "terms": {"keywords": ["acme air"]},
            "sources": [{"type": "replay", "uri": str(replay)}],
        }
        runtime.store().brands.put(Brand.model_validate(brand))
        assert _invoke(shipped, "dispatch_polls", {}) == {"dispatched": 1}
        message = {
            "MessageId": "m1",
            "ReceiptHandle": "r1",
            "Body": json.dumps({"brand": "acme-air", "source": "replay"}),
        }
        assert _invoke(shipped, "poll_mentions", sqs_event([message])) == {"batchItemFailures": []}
        body = json.dumps(
            {
                "brand": "acme-air",
                "mentions": [
                    {"id": "p1", "text": "acme air delayed again", "author": "a2", "created_at": "2026-11-20T14:01:00Z"}
                ],
            }
        ).encode()
        signature = sign(runtime.push_key(), body, int(time.time()))
        push = {
            "requestContext": {"http": {"method": "POST", "path": "/"}},
            "rawPath": "/",
            "headers": {"x-groundswell-signature": signature},
            "body": body.decode(),
            "isBase64Encoded": False,
        }
        pushed = _invoke(shipped, "ingest_push", push)
        assert pushed["statusCode"] == 200, pushed
        assert json.loads(pushed["body"])["stored"] == 1
        assert "brands" in _invoke(shipped, "detect_spikes", {})
        wake = {"MessageId": "m2", "ReceiptHandle": "r2", "Body": "{}"}
        assert "sent" in _invoke(shipped, "notify", sqs_event([wake]))
        link = {"requestContext": {"http": {"method": "GET", "path": "/a/nothing"}}, "rawPath": "/a/nothing"}
        assert _invoke(shipped, "alert_actions", link)["statusCode"] == 403
        assert sum(b.total for b in runtime.store().mentions.buckets("acme-air", *_day())) == 2


def _day() -> tuple[Any, Any]:
    from datetime import UTC, datetime

    return datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)


def test_the_build_ships_the_layer_as_laid_out_here() -> None:
    built = ROOT / "build" / "sam"
    layers = list(built.glob("*/python/groundswell")) if built.exists() else []
    if not layers:
        pytest.skip("no sam build output (make sam-build)")
    here = sorted(str(p.relative_to(ROOT / "shared")) for p in (ROOT / "shared" / "groundswell").rglob("*.py"))
    there = sorted(str(p.relative_to(layers[0].parent)) for p in layers[0].rglob("*.py"))
    assert there == here
