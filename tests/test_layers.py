"""The package's layers point one way: io/config -> data -> model -> generation/training ->
benchmarks -> tiny -> report -> registry -> cli. A module imports from its own sub-package
and from layers below it; the io/config modules (layer 0) may import each other."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scripts" / "alarm"

LAYERS = [
    {"config", "specs", "files", "sharding", "ledger", "stage", "tokenizer", "cluster"}
    | {"fetch", "images", "texts", "preflight", "imports", "progress", "dashboard"},
    {"data"},
    {"model"},
    {"generation", "training"},  # neither imports the other
    {"benchmarks"},  # benchmark inference runs the generation backends
    {"tiny"},  # tiny models are format-fitted on the stages' prompts
    {"report"},
    {"registry"},
    {"cli"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def part_of(path: Path) -> str:
    """The top-level module or sub-package of alarm a file belongs to."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def alarm_imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("alarm."):
            yield node.module.split(".")[1], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("alarm."):
                    yield alias.name.split(".")[1], node.lineno


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_part_of_the_package_has_a_layer():
    assert {part_of(p) for p in MODULES} <= set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    own = part_of(path)
    for imported, line in alarm_imports(path):
        if imported == own:
            continue
        assert RANK[imported] < RANK[own] or RANK[own] == RANK[imported] == 0, (
            f"{path.relative_to(PACKAGE)}:{line}: {own} (layer {RANK[own]}) imports "
            f"{imported} (layer {RANK[imported]})"
        )


def test_the_check_sees_a_wrong_import(tmp_path):
    # The check itself must be able to fail: an upward import is found.
    bad = tmp_path / "bad.py"
    bad.write_text("from alarm.report import build_report\n")
    assert list(alarm_imports(bad)) == [("report", 1)]
    assert RANK["report"] > RANK["data"]
