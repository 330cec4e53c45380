"""Shared readers for the deployment files, and a runner for the image's entrypoint outside a container.

No container engine runs here, so the entrypoint is run directly with this
virtualenv's executables first on PATH in place of the image's
(/opt/provocast/bin), from a scratch working directory, with the shipped seeds.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from forecasting.settings import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
COMPOSE_FILE = PROJECT_ROOT / "compose.yaml"
ENV_EXAMPLE = PROJECT_ROOT / "deploy" / "env.example"
ENTRYPOINT = PROJECT_ROOT / "deploy" / "entrypoint.sh"
KUBERNETES_DIR = PROJECT_ROOT / "deploy" / "kubernetes"
LOCK_FILE = PROJECT_ROOT / "requirements.lock"
PYPROJECT = PROJECT_ROOT / "pyproject.toml"
SHIPPED_SEEDS = PROJECT_ROOT / "seeds"
VENV_BIN = Path(sys.executable).parent


# --- Dockerfile ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    arguments: str  # the rest of the (continued) line
    line: int


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    """The instructions in order, continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are skipped by Docker too
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        text = " ".join(part for part in pending if part)
        keyword, _, arguments = text.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = []
    assert not pending, f"{path}: the last instruction ends with a line continuation"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """The instructions split into build stages, each starting with its FROM (global ARGs left out)."""
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([])
        if not result:
            assert instruction.keyword == "ARG", f"line {instruction.line}: {instruction.keyword} before the first FROM"
            continue
        result[-1].append(instruction)
    return result


def healthcheck_command(instructions: list[Instruction]) -> str:
    """The shell command of the (last) HEALTHCHECK, as `sh -c` would run it."""
    checks = [i for i in instructions if i.keyword == "HEALTHCHECK"]
    assert checks, "the Dockerfile has no HEALTHCHECK"
    words = checks[-1].arguments
    options, separator, command = words.partition(" CMD ")
    assert separator, f"HEALTHCHECK without CMD: {words}"
    assert not command.lstrip().startswith("["), "the test runs the shell form of HEALTHCHECK CMD"
    return command.strip()


def env_settings(instructions: list[Instruction]) -> dict[str, str]:
    """Every ENV key=value of the Dockerfile (later ones win)."""
    values: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword != "ENV":
            continue
        for word in shlex.split(instruction.arguments):
            key, separator, value = word.partition("=")
            assert separator, f"line {instruction.line}: ENV {word!r} is not in the KEY=value form"
            values[key] = value
    return values


# --- YAML -------------------------------------------------------------------------------------------------


def load_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_yaml_documents(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [document for document in yaml.safe_load_all(handle) if document is not None]


# --- running the entrypoint -------------------------------------------------------------------------------


def entrypoint_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a container from the image, with this virtualenv standing in for the image's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROVOCAST_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env["PROVOCAST_DATABASE_URL"] = database_url
    env["PROVOCAST_SEEDS_DIR"] = str(SHIPPED_SEEDS)
    env.update(settings)
    return env


def run_entrypoint(
    arguments: list[str], env: dict[str, str], cwd: Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the entrypoint to its end; on a timeout, its whole process group is killed (no stray server)."""
    process = start_entrypoint(arguments, env, cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def start_entrypoint(arguments: list[str], env: dict[str, str], cwd: Path, **output: object) -> subprocess.Popen:
    """The entrypoint in a process group of its own, as the first process of a container would be."""
    return subprocess.Popen(
        [str(ENTRYPOINT), *arguments],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        **output,
    )


def kill_group(process: subprocess.Popen) -> None:
    """Kill whatever is left of the process's group (also what a broken script failed to exec or stop)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch working directory, like the image's /app/work (not the checkout)."""
    path = tmp_path / "work"
    path.mkdir()
    return path
