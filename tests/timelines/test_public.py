"""Import boundaries: other apps use timelines' public surface, and only the enqueue module
imports the tasks (no services <-> tasks cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What graph/, posts/, ranking/ and feedsite/mastodon/ may import from timelines.
ALLOWED = {"timelines.public", "timelines.models", "timelines.keys"}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "timelines":
                modules |= {f"timelines.{alias.name}" for alias in node.names}
            else:
                modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
    return modules


def python_files(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def test_other_apps_import_only_the_public_surface():
    reaching_in = {
        f"{path.relative_to(ROOT)}: {module}"
        for app in ("graph", "posts", "ranking", "feedsite/mastodon")
        for path in python_files(app)
        for module in imported_modules(path)
        if module.startswith("timelines.") and module not in ALLOWED
    }
    assert reaching_in == set()


def test_only_the_enqueue_module_imports_the_tasks():
    importers = {
        str(path.relative_to(ROOT))
        for path in python_files("timelines")
        if "timelines.tasks" in imported_modules(path)
    }
    assert importers == {"timelines/fanout/enqueue.py"}
