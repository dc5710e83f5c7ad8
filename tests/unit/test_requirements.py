"""One list of dependencies: the requirements files that sam build reads are generated from pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from infra.requirements import ROOT, drifted, expected


def test_the_shipped_requirements_are_what_pyproject_says() -> None:
    assert drifted() == [], "run python -m infra.requirements"


def test_a_pin_changed_in_pyproject_alone_is_caught(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "shared").mkdir()
    for path, text in expected(tmp_path).items():
        path.write_text(text)
    assert drifted(tmp_path) == []
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("scipy==1.16.3", "scipy==1.17.0"))
    assert drifted(tmp_path) == [tmp_path / "functions" / "detect_spikes" / "requirements.txt"]


def test_the_layer_leaves_out_what_lambda_provides_and_the_command_line_needs_alone() -> None:
    layer = expected()[ROOT / "shared" / "requirements.txt"]
    lines = [line for line in layer.splitlines() if not line.startswith("#")]
    assert "pydantic==2.14.3" in lines and not any(line.startswith(("boto3", "pyyaml")) for line in lines)
