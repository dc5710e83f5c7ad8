"""``groundswell``: the operator's command line. Works against the local emulated stack or a deployed one."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groundswell.domain.text import parse_timestamp


def _target(args: argparse.Namespace) -> None:
    """Points the adapters at a deployed stack (by name) or at explicit table/endpoint settings."""
    if getattr(args, "region", None):
        os.environ["AWS_DEFAULT_REGION"] = args.region
    if getattr(args, "endpoint_url", None):
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    if getattr(args, "table", None):
        os.environ["TABLE_NAME"] = args.table
    if getattr(args, "stack", None):
        from groundswell.adapters.aws import client

        outputs = client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0].get("Outputs", [])
        values = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        os.environ["TABLE_NAME"] = values["TableName"]
        os.environ.setdefault("POLL_QUEUE_URL", values.get("PollQueueUrl", ""))
        os.environ.setdefault("BACKFILL_QUEUE_URL", values.get("BackfillQueueUrl", ""))
    if not os.environ.get("TABLE_NAME"):
        from groundswell.config import ConfigError

        raise ConfigError("no table: pass --stack NAME (deployed stack), --table NAME, or set TABLE_NAME")


def cmd_brands(args: argparse.Namespace) -> int:
    from groundswell.runtime import store
    from infra.brand_files import BrandConfigError, load_brand_file

    brands = []
    if args.action in ("add", "validate"):
        try:
            brands = load_brand_file(args.file)
        except BrandConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.action == "validate":
        print(f"{args.file}: {len(brands)} valid brand(s): {', '.join(b.name for b in brands)}")
        return 0
    _target(args)
    repo = store()
    if args.action == "add":
        from groundswell.config import ConfigError
        from groundswell.domain.alerting.people import conflicts
        from groundswell.runtime import queue_backfills

        repo.brands.put_many(brands)
        print(f"saved {len(brands)} brand(s): {', '.join(b.name for b in brands)}")
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            queued = queue_backfills(brands)
        except ConfigError as exc:
            queued = 0
            print(f"warning: no history backfilled: {exc} (pass --stack NAME)", file=sys.stderr)
        except (BotoCoreError, ClientError) as exc:
            print(
                f"error: saved, but their history could not be queued ({_one_line(str(exc))}): run "
                f"'groundswell brands add {args.file}' again to queue it",
                file=sys.stderr,
            )
            return 2
        if queued:
            print(f"queued {queued} brand-day(s) of history to backfill ('groundswell brands show NAME' follows it)")
        for line in conflicts(repo.brands.list()):
            print(f"warning: {line} (one person, one set of preferences: docs/alerts.md)", file=sys.stderr)
    elif args.action == "list":
        for brand in repo.brands.list():
            sources = ",".join(s.type for s in brand.sources)
            print(f"{brand.name:<24} {'on ' if brand.enabled else 'off'}  {brand.timezone:<20} {sources}")
    elif args.action == "show":
        found = repo.brands.get(args.name)
        if found is None:
            print(f"no brand {args.name!r} (see 'groundswell brands list')", file=sys.stderr)
            return 1
        print(found.model_dump_json(indent=2))
        from groundswell.domain.backfill import MARKER, progress_line

        print(progress_line(repo.cursors.states_under(found.name, MARKER)))
    elif args.action == "remove":
        return _remove_brand(repo, args.name)
    return 0


def _remove_brand(repo: Any, name: str) -> int:
    """Removes a brand unless an incident of it is open (its recipients would never hear the all clear)."""
    from datetime import UTC, datetime

    from pydantic import ValidationError

    from groundswell.domain.alerting.notices import IncidentView

    if repo.brands.get(name) is None:
        print(f"no brand {name!r} (see 'groundswell brands list')", file=sys.stderr)
        return 1
    stored = []  # oldest first: the last crisis is open or none is (an attention notice has no all clear to hear)
    for raw in repo.incidents.history(name):
        try:
            stored.append(IncidentView.model_validate_json(raw))
        except ValidationError:
            continue
    incident = next((i for i in reversed(stored) if i.kind == "crisis"), None)
    if incident is not None and incident.resolved_at is None:
        print(
            f"{name} has an open incident ({incident.id}); remove the brand once it is resolved, or pause it "
            "now with \"enabled\": false in its file and 'groundswell brands add'",
            file=sys.stderr,
        )
        return 2
    if not repo.brands.remove(name, datetime.now(UTC)):
        print(f"no brand {name!r} (see 'groundswell brands list')", file=sys.stderr)
        return 1
    print(
        f"removed {name}: no more polls or alerts; its counts are kept (adding it again resumes them, and the "
        "days in between are not learned as calm)"
    )
    return 0


def cmd_sentiment(args: argparse.Namespace) -> int:
    from groundswell.domain.text import decode_utf8
    from groundswell.runtime import make_scorer

    scorer = make_scorer(args.scorer)
    scored = bad = 0
    with open(args.input, "rb") as src, open(args.output, "w", encoding="utf-8") as dst:
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            for record, (label, value) in zip(batch, scorer.score([str(r["text"]) for r in batch]), strict=True):
                record["sentiment"], record["sentiment_score"] = label.value, value
                dst.write(json.dumps(record, ensure_ascii=False) + "\n")
            batch.clear()

        for number, raw in enumerate(src, start=1):
            line, _ = decode_utf8(raw)
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                    raise ValueError("needs an object with a string 'text'")
            except ValueError as exc:
                bad += 1
                print(f"{args.input}:{number}: skipped: {exc}", file=sys.stderr)
                continue
            batch.append(record)
            scored += 1
            if len(batch) >= 500:
                flush()
        flush()
    print(
        f"scored {scored} mention(s) into {args.output}" + (f"; skipped {bad} bad line(s)" if bad else ""),
        file=sys.stderr,
    )
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from groundswell import runtime
    from groundswell.domain.listening import SourceFailing

    _target(args)
    requests = runtime.poll_requests(runtime.store().brands.list())
    requests = [
        r
        for r in requests
        if (not args.brand or r.brand == args.brand) and (not args.source or r.source.value == args.source)
    ]
    if not requests:
        print("nothing to poll (no matching enabled brand/source)", file=sys.stderr)
        return 1
    failed = 0
    for request in requests:
        try:
            report = runtime.poll(request)
        except SourceFailing as exc:
            failed += 1
            print(f"{request.brand}/{request.source.value}: FAILED: {exc}")
            continue
        if report:
            print(
                f"{request.brand}/{request.source.value}: fetched {report.fetched}, stored {report.stored}, "
                f"duplicates {report.duplicates}, skipped {report.skipped}"
            )
    return 1 if failed else 0


def cmd_detect(args: argparse.Namespace) -> int:
    from infra.csvio import CsvInputError, detect_csv

    try:
        alerts = detect_csv(Path(args.input), Path(args.output), args.value_column)
    except (CsvInputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {alerts} alert(s)", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from infra.demo import run_demo

    return run_demo(Path(args.output), hours=args.hours)


def cmd_replay(args: argparse.Namespace) -> int:
    from infra.replay import ReplayError, run_replay

    try:
        return run_replay(
            Path(args.input),
            args.brand,
            Path(args.output),
            start=args.start,
            speed=args.speed,
            sensitivity=args.sensitivity,
            config=Path(args.config) if args.config else None,
            messages=Path(args.messages) if args.messages else None,
        )
    except ReplayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_alerts(args: argparse.Namespace) -> int:
    from infra.brand_files import load_brand_file
    from infra.preview import render_previews

    brands = load_brand_file(args.config) if args.config else []
    brand = next((b for b in brands if b.name == args.brand), None) if args.brand else (brands[0] if brands else None)
    if brand is None:
        from groundswell.domain.models import Brand

        if args.config:
            print(f"error: brand {args.brand!r} is not in {args.config}", file=sys.stderr)
            return 2
        example = {
            "name": "example-brand",
            "display_name": "Example Brand",
            "terms": {"keywords": ["example brand"]},
            "sources": [{"type": "hackernews"}],
        }
        brand = Brand.model_validate(example)
    for path in render_previews(brand, Path(args.output)):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="groundswell", description="Brand-crisis listening and alerting.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def target_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stack", help="a deployed stack's name (reads its outputs)")
        p.add_argument("--table", help="the DynamoDB table (instead of --stack)")
        p.add_argument("--region", help="AWS region")
        p.add_argument("--endpoint-url", help="AWS endpoint (e.g. a local emulator)")

    brands = sub.add_parser("brands", help="add, list, show, remove and validate watched brands")
    actions = brands.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (
        ("add", "add or update brands from a YAML/JSON file"),
        ("list", "list brands"),
        ("show", "show one brand's config"),
        ("remove", "stop watching a brand"),
        ("validate", "check a brand file without saving it"),
    ):
        action = actions.add_parser(name, help=text)
        if name in ("add", "validate"):
            action.add_argument("file")
        if name in ("show", "remove"):
            action.add_argument("name")
        if name != "validate":
            target_options(action)
    brands.set_defaults(func=cmd_brands)

    from infra.incidents_cli import add_parser as add_incidents

    add_incidents(sub, target_options)

    sentiment = sub.add_parser("sentiment", help="score mentions in a JSON Lines file")
    sentiment.add_argument("--input", required=True, help="mentions in the replay format (JSON Lines)")
    sentiment.add_argument("--output", required=True, help="the same lines with sentiment and sentiment_score")
    sentiment.add_argument("--scorer", default="default", choices=["default", "comprehend"])
    sentiment.set_defaults(func=cmd_sentiment)

    poll = sub.add_parser("poll", help="poll sources now (all brands, or one brand/source)")
    poll.add_argument("--brand")
    poll.add_argument("--source", choices=["bluesky", "mastodon", "hackernews", "rss", "replay"])
    target_options(poll)
    poll.set_defaults(func=cmd_poll)

    detect = sub.add_parser("detect", help="score a CSV of counts per 5 minutes for swells (NAB format)")
    detect.add_argument(
        "--input",
        required=True,
        help="CSV with 'timestamp' and a count column; optional 'total' "
        "(all mentions: adds the negative-share test) and 'authors' (distinct negative authors)",
    )
    detect.add_argument("--output", required=True, help="the input columns plus anomaly_score and alert")
    detect.add_argument("--value-column", default="value", help="the count column (default: value)")
    detect.set_defaults(func=cmd_detect)

    replay = sub.add_parser("replay", help="feed a JSON Lines file of mentions through the whole pipeline (simulated)")
    replay.add_argument("--input", required=True, help="mentions, one JSON object per line (docs/mention-format.md)")
    replay.add_argument("--brand", required=True, help='brand name or display name (us-airways or "US Airways")')
    replay.add_argument("--output", required=True, help="incidents and alerts as JSON Lines")
    replay.add_argument("--start", type=parse_timestamp, help="simulated clock start (default: the first mention)")
    replay.add_argument("--speed", type=float, default=0.0, help="simulated seconds per real second (0: fastest)")
    replay.add_argument("--sensitivity", choices=["fewer", "balanced", "more"], default="balanced")
    replay.add_argument("--config", help="brands file to take the brand's recipients and settings from")
    replay.add_argument("--messages", help="folder to write every SMS and email received into")
    replay.set_defaults(func=cmd_replay)

    alerts = sub.add_parser("alerts", help="preview the SMS texts and email a brand's recipients would receive")
    alerts_actions = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    preview = alerts_actions.add_parser("preview", help="render an illustrative incident's SMS and email into files")
    preview.add_argument("--config", help="brands file (YAML/JSON) to take the brand's label and time zones from")
    preview.add_argument("--brand", help="brand name in --config (default: the first)")
    preview.add_argument("--output", default="out/preview", help="folder for sms-*.txt, email.eml/.html, chart.png")
    alerts.set_defaults(func=cmd_alerts)

    demo = sub.add_parser("demo", help="run the pipeline end to end on an embedded emulated AWS (no account)")
    demo.add_argument("--output", default="out/demo", help="folder for the demo's results")
    demo.add_argument("--hours", type=int, default=48, help="simulated hours to run")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a command. A mistake in its arguments, files, settings or AWS access is one line on stderr that
    says what to do, and exit code 2; an unexpected failure is one line and exit code 1
    (``GROUNDSWELL_DEBUG=1`` shows the traceback)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("GROUNDSWELL_DEBUG") == "1":
            raise
        message, code = explain(exc)
        print(f"error: {message}", file=sys.stderr)
        return code


def explain(exc: Exception) -> tuple[str, int]:
    """What to tell the user about ``exc``, and the exit code (2: theirs to fix, 1: ours)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
    from pydantic import ValidationError

    from groundswell.config import ConfigError
    from infra.brand_files import BrandConfigError

    if isinstance(exc, ConfigError | BrandConfigError | ValueError) and not isinstance(exc, ValidationError):
        return _one_line(str(exc)), 2
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "input"
        return f"{where}: {first['msg']}", 2
    if isinstance(exc, OSError):
        name = f"{exc.filename}: " if exc.filename else ""
        return f"{name}{exc.strerror or exc}", 2
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", 2
    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region or set AWS_DEFAULT_REGION", 2
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        hint = {
            "ResourceNotFoundException": " (is --table or --stack right, and the region?)",
            "ValidationError": " (is the stack name right, and the region?)",
            "AccessDeniedException": " (your AWS identity may not do this)",
        }.get(str(error.get("Code")), "")
        return f"AWS said {error.get('Code')}: {_one_line(str(error.get('Message', '')))}{hint}", 2
    if isinstance(exc, BotoCoreError):
        return f"AWS: {_one_line(str(exc))} (check --endpoint-url, --region and the network)", 2
    return f"{type(exc).__name__}: {_one_line(str(exc))} (GROUNDSWELL_DEBUG=1 shows where)", 1


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "; ".join(lines)[:500] if lines else "(no detail)"


if __name__ == "__main__":
    sys.exit(main())
