"""The import rules of the layer (docs/architecture.md), read from the source with ``ast``: every import
counts, including those inside functions (a lazy import still ties two rooms together)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "shared"

# the rooms, by module prefix; a module belongs to the first room whose prefix it starts with
ADAPTERS = ("groundswell.adapters",)
USE_CASES = ("groundswell.usecases",)
COMPOSITION = ("groundswell.runtime",)
SHARED = ("groundswell.config", "groundswell.observability")  # settings and logs/metrics: every room may use them
OUTSIDE_THE_LAYER = ("infra", "benchmarks", "functions", "tests")
AWS_SDK = ("boto3", "botocore", "mypy_boto3")


def _modules() -> dict[str, set[str]]:
    """Every module of the layer with every module it imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted(LAYER.rglob("*.py")):
        parts = list(path.relative_to(LAYER).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[name] = imported
    return found


MODULES = _modules()


def _room(module: str) -> str:
    rooms = (("adapters", ADAPTERS), ("use cases", USE_CASES), ("composition", COMPOSITION), ("shared", SHARED))
    for room, prefixes in rooms:
        if module.startswith(prefixes):
            return room
    return "domain" if module.startswith("groundswell.domain") else "package"


def _in(names: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n == prefixes or n.split(".")[0] in prefixes or n.startswith(prefixes))


def test_the_layer_is_what_it_seems() -> None:
    assert len(MODULES) > 40 and "groundswell.adapters.dynamo.table" in MODULES


def test_nothing_in_the_layer_imports_the_command_line_tools_infra_benchmarks_functions_or_tests() -> None:
    found = {m: _in(names, OUTSIDE_THE_LAYER) for m, names in MODULES.items()}
    assert {m: bad for m, bad in found.items() if bad} == {}


def test_only_adapters_import_the_aws_sdk() -> None:
    found = {m: _in(names, AWS_SDK) for m, names in MODULES.items() if _room(m) != "adapters"}
    assert {m: bad for m, bad in found.items() if bad} == {}


@pytest.mark.parametrize("room", ["domain", "use cases"])
def test_the_domain_and_the_use_cases_depend_on_ports_not_on_adapters_or_wiring(room: str) -> None:
    forbidden = {"domain": ("adapters", "use cases", "composition"), "use cases": ("adapters", "composition")}[room]
    found = {}
    for module, names in MODULES.items():
        if _room(module) != room:
            continue
        bad = sorted(n for n in names if n in MODULES and _room(n) in forbidden)
        if bad:
            found[module] = bad
    assert found == {}


def test_no_import_cycles() -> None:
    graph = {m: {n for n in names if n in MODULES and n != m} for m, names in MODULES.items()}
    # a package's __init__ importing its own modules is not a cycle of concern
    cycles = []
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for nxt in sorted(graph[module]):
            if nxt.startswith(module + ".") or module.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_rooms_stay_small_no_module_over_400_lines_no_class_over_250() -> None:
    long_modules, long_classes = [], []
    for path in LAYER.rglob("*.py"):
        source = path.read_text()
        if source.count("\n") > 400:
            long_modules.append(str(path.relative_to(LAYER)))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and node.end_lineno and node.end_lineno - node.lineno + 1 > 250:
                long_classes.append(f"{path.relative_to(LAYER)}:{node.name}")
    assert (long_modules, long_classes) == ([], [])
