"""The operator CLI: every command listed with a one-line description."""

from __future__ import annotations


def test_every_command_says_what_it_does_in_the_help() -> None:
    from infra.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    helps = {c.dest: c.help for c in commands._get_subactions()}
    assert set(helps) == {"brands", "incidents", "sentiment", "poll", "detect", "replay", "alerts", "demo"}
    assert all(h and len(h) < 100 for h in helps.values())


import pytest  # noqa: E402


def bad_inputs(tmp: str) -> list[list[str]]:
    """Each command with a user mistake: a missing or malformed file, a brand that is not there, no table."""
    return [
        ["brands", "add", f"{tmp}/missing.yaml"],
        ["brands", "add", f"{tmp}/broken.yaml"],
        ["brands", "validate", f"{tmp}/broken.yaml"],
        ["brands", "list"],  # no table named anywhere
        ["brands", "show", "acme-air"],
        ["brands", "remove", "acme-air"],
        ["sentiment", "--input", f"{tmp}/missing.jsonl", "--output", f"{tmp}/out.jsonl"],
        ["poll", "--brand", "acme-air"],
        ["detect", "--input", f"{tmp}/missing.csv", "--output", f"{tmp}/out.csv"],
        ["detect", "--input", f"{tmp}/broken.yaml", "--output", f"{tmp}/out.csv"],
        ["replay", "--input", f"{tmp}/missing.jsonl", "--brand", "US Airways", "--output", f"{tmp}/r.jsonl"],
        ["replay", "--input", f"{tmp}/one.jsonl", "--brand", "!!!", "--output", f"{tmp}/r.jsonl"],
        [
            "replay",
            "--input",
            f"{tmp}/one.jsonl",
            "--brand",
            "US Airways",
            "--output",
            f"{tmp}/r.jsonl",
            "--config",
            f"{tmp}/broken.yaml",
        ],
        [
            "replay",
            "--input",
            f"{tmp}/one.jsonl",
            "--brand",
            "Nope Air",
            "--output",
            f"{tmp}/r.jsonl",
            "--config",
            f"{tmp}/brands.yaml",
        ],
        ["alerts", "preview", "--config", f"{tmp}/broken.yaml"],
        ["alerts", "preview", "--config", f"{tmp}/brands.yaml", "--brand", "nope"],
        ["demo", "--output", f"{tmp}/one.jsonl/demo", "--hours", "1"],  # a file where a folder should go
    ]


def test_no_command_answers_a_user_mistake_with_a_traceback(
    tmp_path: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from infra.cli import main

    tmp = Path(str(tmp_path))
    (tmp / "broken.yaml").write_text("name: Acme\nterms: {keywords: []}\nsources: [{type: rss, feeds: [x]}]\n")
    (tmp / "brands.yaml").write_text("name: acme-air\nterms: {keywords: [acme]}\nsources: [{type: hackernews}]\n")
    (tmp / "one.jsonl").write_text('{"id": "1", "created_at": "2026-11-20T10:00:00Z", "text": "x", "author": "a"}\n')
    monkeypatch.delenv("TABLE_NAME", raising=False)
    for argv in bad_inputs(str(tmp)):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, code, err)
        assert "Traceback" not in err and err.startswith("error: "), (argv, err)
        assert len(err) < 2000, (argv, err)


def test_replay_takes_a_display_name_and_keeps_it() -> None:
    from pathlib import Path

    from infra.replay import brand_config

    config = brand_config("US Airways", Path("/tmp/x.jsonl"), "balanced", None)
    assert config["name"] == "us-airways" and config["display_name"] == "US Airways"
    assert brand_config("us-airways", Path("/tmp/x.jsonl"), "balanced", None)["display_name"] == ""
