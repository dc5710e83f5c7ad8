"""The layer's and each function's ``requirements.txt``, generated from pyproject.toml (the one list).

python -m infra.requirements          # write them
python -m infra.requirements --check  # exit 1 and name the files that drifted (CI)
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_IN_THE_LAYER = {
    "boto3": "the Lambda runtime provides it",
    "pyyaml": "only the command line reads brand files",
}
FUNCTION_EXTRAS = {"detect_spikes": "detector", "notify": "alerts", "alert_actions": "alerts"}  # others: the layer
HEADER = "# Generated from pyproject.toml by `python -m infra.requirements`: edit the list there, not here.\n"


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def expected(root: Path = ROOT) -> dict[Path, str]:
    """Each requirements file and the text it should have."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    layer = [r for r in project["dependencies"] if _name(r) not in NOT_IN_THE_LAYER]
    left_out = "".join(f"# not here: {name} ({why})\n" for name, why in NOT_IN_THE_LAYER.items())
    files = {root / "shared" / "requirements.txt": HEADER + left_out + "".join(f"{r}\n" for r in layer)}
    for function in sorted(p.parent.name for p in (root / "functions").glob("*/app.py")):
        extra = FUNCTION_EXTRAS.get(function)
        lines = project["optional-dependencies"][extra] if extra else []
        note = f"# the extra [{extra}]; the layer brings the rest\n" if extra else "# the layer brings everything\n"
        files[root / "functions" / function / "requirements.txt"] = HEADER + note + "".join(f"{r}\n" for r in lines)
    return files


def drifted(root: Path = ROOT) -> list[Path]:
    return [path for path, text in expected(root).items() if not path.exists() or path.read_text() != text]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a file drifted")
    check = parser.parse_args().check
    if check:
        stale = drifted()
        for path in stale:
            print(f"{path.relative_to(ROOT)} is not what pyproject.toml says: run python -m infra.requirements")
        sys.exit(1 if stale else 0)
    for path, text in expected().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
