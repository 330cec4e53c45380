"""The layout's own rules (docs/architecture.md): small modules, small folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecasting.settings import PROJECT_ROOT

PACKAGES = ("forecasting", "service")
MAX_MODULE_LINES = 400
MAX_MODULES_PER_FOLDER = 10
# Alembic revisions are frozen history, not code that grows.
EXEMPT = (PROJECT_ROOT / "forecasting" / "store" / "migrations" / "versions",)


def _modules() -> list[Path]:
    found = [path for package in PACKAGES for path in (PROJECT_ROOT / package).rglob("*.py")]
    return sorted(path for path in found if not any(path.is_relative_to(folder) for folder in EXEMPT))


@pytest.mark.parametrize("module", _modules(), ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_no_module_is_longer_than_the_limit(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.relative_to(PROJECT_ROOT)} has {lines} lines; split it by concern"


def test_no_folder_holds_more_than_the_limit() -> None:
    folders: dict[Path, int] = {}
    for module in _modules():
        if module.name != "__init__.py":
            folders[module.parent] = folders.get(module.parent, 0) + 1
    crowded = {str(f.relative_to(PROJECT_ROOT)): n for f, n in folders.items() if n > MAX_MODULES_PER_FOLDER}
    assert not crowded, f"folders with more than {MAX_MODULES_PER_FOLDER} modules: {crowded}"
