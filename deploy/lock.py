"""Write requirements.lock: exact pins for the runtime dependencies of pyproject.toml and all they pull in.

Run by `make lock`. The pins are read from the environment this script runs
in (the project's .venv, made by `make install`), so the image installs the
versions the test suite ran against. Only the closure of
[project].dependencies is locked: the dev extras stay out of the image.
Environment markers are evaluated for this interpreter, which must therefore
be the image's: CPython 3.11 on Linux.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
IMAGE_PYTHON = (3, 11)


class LockError(RuntimeError):
    """The environment cannot produce a complete, consistent lock (the message says what to fix)."""


@dataclass
class Pin:
    name: str
    version: str
    via: set[str] = field(default_factory=set)


def runtime_requirements(pyproject: Path) -> list[Requirement]:
    with pyproject.open("rb") as handle:
        project = tomllib.load(handle)["project"]
    return [Requirement(text) for text in project.get("dependencies", [])]


def applies(requirement: Requirement, parent_extras: set[str]) -> bool:
    """Does this requirement hold on this interpreter, for a parent installed with these extras?"""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in parent_extras | {""})


def resolve_closure(roots: list[Requirement]) -> dict[str, Pin]:
    """Every distribution the roots need, by canonical name, at the version installed here."""
    pins: dict[str, Pin] = {}
    expanded: dict[str, set[str]] = {}  # name -> the extras whose requirements are already queued
    pending = [(requirement, "pyproject.toml") for requirement in roots if applies(requirement, set())]
    while pending:
        requirement, parent = pending.pop()
        name = canonicalize_name(requirement.name)
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            raise LockError(
                f"{requirement.name} (needed by {parent}) is not installed here; run `make install`"
            ) from None
        if not requirement.specifier.contains(distribution.version, prereleases=True):
            raise LockError(
                f"{name} {distribution.version} is installed, but {parent} needs {requirement}; "
                "reinstall the environment (`make clean-venv install`) and lock again"
            )
        pins.setdefault(name, Pin(name, distribution.version)).via.add(parent)
        wanted = {canonicalize_name(extra) for extra in requirement.extras}
        done = expanded.get(name)
        if done is not None and wanted <= done:
            continue
        extras = (done or set()) | wanted
        expanded[name] = extras
        for text in distribution.requires or []:
            child = Requirement(text)
            if applies(child, extras):
                pending.append((child, name))
    return pins


def render(pins: dict[str, Pin]) -> str:
    lines = [
        "# Exact pins of provocast's runtime dependencies ([project].dependencies in pyproject.toml and",
        "# everything they need), read from the environment the test suite ran in. The image installs these.",
        "# Regenerate with `make lock` after changing dependencies; do not edit by hand.",
        f"# Locked for CPython {IMAGE_PYTHON[0]}.{IMAGE_PYTHON[1]} on Linux (the image's interpreter).",
        "",
    ]
    for name in sorted(pins):
        pin = pins[name]
        via = ", ".join(sorted(pin.via))
        lines.append(f"{pin.name}=={pin.version}")
        lines.append(f"    # via {via}")
    return "\n".join(lines) + "\n"


def check_interpreter() -> None:
    if sys.version_info[:2] != IMAGE_PYTHON or not sys.platform.startswith("linux"):
        raise LockError(
            f"lock from CPython {IMAGE_PYTHON[0]}.{IMAGE_PYTHON[1]} on Linux (the image's interpreter); "
            f"this is {platform.python_implementation()} {platform.python_version()} on {sys.platform}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "requirements.lock")
    args = parser.parse_args(argv)
    try:
        check_interpreter()
        pins = resolve_closure(runtime_requirements(args.pyproject))
    except LockError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.out.write_text(render(pins), encoding="utf-8")
    print(f"wrote {args.out} ({len(pins)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
