"""The operator CLI: every command listed with a one-line description."""

from __future__ import annotations


def test_every_command_says_what_it_does_in_the_help() -> None:
    from groundswell.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    helps = {c.dest: c.help for c in commands._get_subactions()}
    assert set(helps) == {"brands", "sentiment", "poll", "detect", "replay", "alerts", "demo"}
    assert all(h and len(h) < 100 for h in helps.values())
