"""``groundswell incidents list|show ID|export``: the incidents as the incident page shows them, from the local
stack or a deployed one (the operator's AWS identity reads the table; no link is needed)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from groundswell.domain.alerting.notices import IncidentView, local_time
from groundswell.domain.alerting.page import facts_section
from groundswell.domain.models import Brand

SHOW_POSTS, EXPORT_POSTS = 10, 25


def cmd_incidents(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from groundswell.runtime import store
    from groundswell.usecases.alert_states import readable
    from groundswell.usecases.content import Content
    from groundswell.usecases.pages import IncidentFacts
    from infra.cli import _target

    _target(args)
    out = out or sys.stdout  # looked up now: a default bound at import would miss a redirected stdout
    repo = store()
    facts, now = IncidentFacts(repo, Content(repo, None)), datetime.now(UTC)
    brands = {b.name: b for b in repo.brands.list()}
    if args.action == "show":
        name = args.id.partition(":")[0]  # a brand name has no colon; an id may have two (an attention notice)
        brand = brands.get(name)
        state = facts.state(args.id) if brand else None
        if brand is None or state is None:
            print(f"no incident {args.id!r} (see 'groundswell incidents list')", file=sys.stderr)
            return 1
        page = facts.page(state, brand, _zone(args, brand), now, samples=args.posts, chart=False)
        _print_page(page, _zone(args, brand), out)
        return 0
    wanted = [brands[args.brand]] if args.brand in brands else [] if args.brand else list(brands.values())
    if args.brand and not wanted:
        print(f"no brand {args.brand!r} (see 'groundswell brands list')", file=sys.stderr)
        return 1
    found = 0
    for brand in wanted:
        history = repo.incidents.history(brand.name)
        views = [v for raw in history if (v := readable(IncidentView, raw, "incident", brand.name))]
        for view in reversed(views):  # newest first
            state = facts.state(view.id)
            if state is None or (args.open and (state.resolved or view.resolved_at is not None)):
                continue
            found += 1
            zone = _zone(args, brand)
            if args.action == "list":
                out.write(_line(view, state, zone) + "\n")
            else:
                page = facts.page(state, brand, zone, now, samples=EXPORT_POSTS, chart=False)
                out.write(json.dumps(_record(page, state, zone), ensure_ascii=False) + "\n")
    if not found and args.action == "list":
        print("no incidents" + (" open" if args.open else ""), file=sys.stderr)
    return 0


def add_parser(sub: Any, target_options: Any) -> None:
    incidents = sub.add_parser("incidents", help="list, show or export incidents as their page shows them")
    actions = incidents.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="one line per incident, newest first")
    show = actions.add_parser("show", help="one incident: numbers, drivers, timeline and sample posts")
    show.add_argument("id", help="the incident id, e.g. acme-air:20261120T1405")
    show.add_argument("--posts", type=int, default=SHOW_POSTS, help=f"sample posts to show (default {SHOW_POSTS})")
    export = actions.add_parser("export", help="JSON Lines: every incident with its facts, timeline and posts")
    for action in (listing, export):
        action.add_argument("--brand", help="only this brand")
        action.add_argument("--open", action="store_true", help="only incidents still open")
    for action in (listing, show, export):
        action.add_argument("--timezone", help="times in this zone (default: the brand's)")
        target_options(action)
    incidents.set_defaults(func=cmd_incidents)


def _zone(args: argparse.Namespace, brand: Brand) -> str:
    return str(args.timezone or brand.timezone)


def _status_word(state: Any) -> str:
    if state.verdict is not None:
        return state.verdict.call
    if state.resolved:
        return "resolved"
    return "acknowledged" if state.acked_at else "open"


def _line(view: IncidentView, state: Any, zone: str) -> str:
    about = ", ".join(view.drivers[:3]) or "-"
    opened = local_time(view.opened_at, zone, with_day=True)
    attention = view.kind == "attention"
    numbers = f"{view.observed:.0f} {'posts' if attention else 'neg'}/{view.window_minutes}m {view.ratio:.1f}x"
    grade = "ATTN" if attention else f"SEV{view.severity}"
    return f"{view.id:<32} {_status_word(state):<13} {grade}  {opened:<15} {numbers}  {about}"


def _print_page(page: Any, zone: str, out: TextIO) -> None:
    section = facts_section(page.notice, zone)
    crisis = f"SEV{section['severity']} ({section['severity_word']})"
    grade = "unusual attention (not paging)" if section["attention"] else crisis
    out.write(f"{section['brand']}  {grade}  {section['incident_id']}\n")
    out.write(f"{page.status}\n")
    if section["drivers"]:
        out.write(f"About: {', '.join(section['drivers'])}\n")
    out.write("\n")
    for label, value in section["rows"]:
        out.write(f"  {label + ':':<28}{value}\n")
    if section["sources"]:
        out.write(f"  {'Sources:':<28}{'; '.join(section['sources'])}\n")
    out.write("\nTimeline\n")
    for moment in page.timeline:
        out.write(f"  {local_time(moment.at, zone, with_day=True):<16}{moment.what}\n")
    out.write("\nSample posts\n")
    for post in section["samples"]:
        link = f"  {post['link']}" if post["link"] else ""
        out.write(f"  {post['author']} · {post['source']} · {post['time']} · {post['engagement']} interactions{link}\n")
        out.write(f"    {' '.join(post['text'].split())}\n")


def _record(page: Any, state: Any, zone: str) -> dict[str, Any]:
    notice = page.notice
    return {
        "incident": json.loads(notice.incident.model_dump_json()),
        "status": page.status,
        "acknowledged_by": state.acked_by,
        "acknowledged_at": state.acked_at.isoformat() if state.acked_at else None,
        "verdict": state.verdict.call if state.verdict else None,
        "verdict_by": state.verdict.by if state.verdict else None,
        "facts": dict(facts_section(notice, zone)["rows"]),
        "timeline": [{"at": m.at.isoformat(), "what": m.what} for m in page.timeline],
        "samples": [
            {
                "source": m.source,
                "author": m.author,
                "created_at": m.created_at.isoformat(),
                "engagement": m.engagement,
                "url": m.url,
                "text": m.text,
            }
            for m in notice.samples
        ],
    }
