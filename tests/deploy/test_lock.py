"""requirements.lock: exact pins that cover pyproject.toml's runtime dependencies and nothing dev-only.

The pins are checked against pyproject's ranges with `packaging`. Whether the
lock is closed (every pinned package's own requirements pinned too) is checked
with the installed packages' metadata, for every pinned package whose installed
version is the pinned one (a fresh `make install` may have newer releases; those
are left to `pip check` in the image build).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy.conftest import LOCK_FILE, PROJECT_ROOT, PYPROJECT


def read_lock(path: Path = LOCK_FILE) -> dict[str, Version]:
    """Pinned versions by canonical name; every non-comment line must be exactly `name==version`."""
    pins: dict[str, Version] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", (
            f"{path.name}:{number}: not an exact pin: {line}"
        )
        assert requirement.marker is None and requirement.url is None and not requirement.extras, (
            f"{path.name}:{number}: {line}"
        )
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{path.name}:{number}: {name} pinned twice"
        pins[name] = Version(specifiers[0].version)
    return pins


def project_table() -> dict:
    with PYPROJECT.open("rb") as handle:
        return tomllib.load(handle)["project"]


def applies(requirement: Requirement, parent_extras: set[str]) -> bool:
    """The requirement holds on this interpreter (the image's: CPython 3.11 on Linux) for these extras."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in parent_extras | {""})


def installed_as_pinned(name: str, pinned: Version) -> metadata.Distribution | None:
    try:
        distribution = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    return distribution if Version(distribution.version) == pinned else None


def installed(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def walk_lock(pins: dict[str, Version], any_installed: bool = False) -> tuple[set[str], list[str], bool]:
    """From pyproject's runtime dependencies through the pins: (names reached, problems, every step checked).

    With `any_installed`, a package installed at another version than its pin is expanded with the installed
    version's requirements (a fresh `make install` takes newer releases than the lock's)."""
    problems: list[str] = []
    reached: set[str] = set()
    expanded: dict[str, set[str]] = {}
    complete = True
    pending = [(Requirement(text), "pyproject.toml") for text in project_table()["dependencies"]]
    while pending:
        requirement, parent = pending.pop()
        if parent == "pyproject.toml" and not applies(requirement, set()):
            continue
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{parent} needs {requirement}, which is not in the lock")
            continue
        if not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{parent} needs {requirement}, but the lock pins {name}=={pins[name]}")
        reached.add(name)
        wanted = {canonicalize_name(extra) for extra in requirement.extras}
        if name in expanded and wanted <= expanded[name]:
            continue
        extras = expanded.get(name, set()) | wanted
        expanded[name] = extras
        distribution = installed_as_pinned(name, pins[name]) or (installed(name) if any_installed else None)
        if distribution is None:
            complete = False  # this version's metadata is not at hand; `pip check` in the build covers it
            continue
        for text in distribution.requires or []:
            child = Requirement(text)
            if applies(child, extras):
                pending.append((child, name))
    return reached, problems, complete


@pytest.fixture(scope="module")
def pins() -> dict[str, Version]:
    return read_lock()


def test_every_runtime_dependency_is_pinned_within_its_range(pins: dict[str, Version]) -> None:
    for text in project_table()["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, (
            f"pyproject.toml needs {requirement}, but requirements.lock does not pin it (run `make lock`)"
        )
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject.toml's {requirement} (run `make lock`)"
        )


def test_the_lock_is_closed_under_the_pinned_packages_requirements(pins: dict[str, Version]) -> None:
    reached, problems, complete = walk_lock(pins)
    assert not problems, "\n".join(problems)
    if complete:
        assert set(pins) == reached, f"pinned but needed by nothing at run time: {sorted(set(pins) - reached)}"


def test_dev_only_packages_stay_out_of_the_lock(pins: dict[str, Version]) -> None:
    reached, _, _ = walk_lock(pins, any_installed=True)
    for text in project_table()["optional-dependencies"]["dev"]:
        name = canonicalize_name(Requirement(text).name)
        if name in pins:
            # Allowed only when a runtime package needs it too (PyYAML: uvicorn[standard] reads YAML log configs).
            assert name in reached, f"dev-only {name} is in requirements.lock"
    for name in ("pytest", "pytest-xdist", "schemathesis", "httpx", "hypothesis"):
        assert name not in pins, f"{name} is a test tool; it must not be in the image"


def test_the_lock_pins_wheels_for_the_image_platform(pins: dict[str, Version]) -> None:
    # The image installs with --only-binary=:all:; psycopg's binary wheel carries libpq, so the slim image
    # needs no PostgreSQL client library from apt.
    assert "psycopg-binary" in pins
    assert pins["psycopg-binary"] == pins["psycopg"]


def test_make_lock_regenerates_the_lock_from_this_environment(tmp_path: Path) -> None:
    out = tmp_path / "requirements.lock"
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "deploy" / "lock.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    regenerated = read_lock(out)
    for text in project_table()["dependencies"]:
        requirement = Requirement(text)
        assert requirement.specifier.contains(regenerated[canonicalize_name(requirement.name)], prereleases=True)
    _, problems, complete = walk_lock(regenerated)
    assert not problems and complete, problems
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\nlock:" in makefile and "deploy/lock.py" in makefile


def test_read_lock_refuses_anything_but_exact_pins(tmp_path: Path) -> None:
    path = tmp_path / "requirements.lock"
    path.write_text("# header\nfastapi==0.1\n    # via x\nuvicorn>=0.29\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="not an exact pin: uvicorn>=0.29"):
        read_lock(path)
