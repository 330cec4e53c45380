"""The Dockerfile and .dockerignore, read as text (no container engine here to build the image)."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from forecasting.lifecycle.schedule import parse_cron
from tests.deploy.conftest import (
    DOCKERIGNORE,
    ENTRYPOINT,
    Instruction,
    dockerfile_instructions,
    env_settings,
    healthcheck_command,
    stages,
)

SLIM_311 = "python:3.11-slim-bookworm"


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return dockerfile_instructions()


@pytest.fixture(scope="module")
def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    return stages(instructions)[-1]


def _arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    defaults = {}
    for instruction in instructions:
        if instruction.keyword == "ARG" and "=" in instruction.arguments:
            key, _, value = instruction.arguments.partition("=")
            defaults[key.strip()] = value.strip()
    return defaults


def _base_image(stage: list[Instruction], defaults: dict[str, str]) -> str:
    image = stage[0].arguments.split()[0]
    return re.sub(r"\$\{?(\w+)\}?", lambda match: defaults.get(match.group(1), match.group(0)), image)


def _stage_named(instructions: list[Instruction], name: str) -> list[Instruction]:
    for stage in stages(instructions):
        words = stage[0].arguments.split()
        if len(words) == 3 and words[1].upper() == "AS" and words[2] == name:
            return stage
    raise AssertionError(f"no stage named {name!r}")


def test_every_stage_starts_from_slim_python_311(instructions: list[Instruction]) -> None:
    defaults = _arg_defaults(instructions)
    for stage in stages(instructions):
        assert _base_image(stage, defaults) == SLIM_311, f"line {stage[0].line}: FROM {stage[0].arguments}"


def test_dependencies_come_from_the_lock_as_wheels_and_are_checked(instructions: list[Instruction]) -> None:
    runs = [i.arguments for i in instructions if i.keyword == "RUN"]
    lock_installs = [run for run in runs if "requirements.lock" in run and "pip install" in run]
    assert lock_installs, "no `pip install ... requirements.lock` step"
    install = lock_installs[0]
    assert "--only-binary=:all:" in install, "wheels only: the slim image has no compiler"
    assert "--no-deps" in install, "--no-deps: the lock alone decides what is installed"
    assert "pip check" in install, "`pip check` proves the lock is complete and consistent"
    copies = [i.arguments for i in instructions if i.keyword == "COPY"]
    assert any(c.split()[0] == "requirements.lock" for c in copies)


def test_the_project_is_installed_not_editable_and_without_dev_extras(instructions: list[Instruction]) -> None:
    installs = [i.arguments for i in instructions if i.keyword == "RUN" and "pip install" in i.arguments]
    project = [run for run in installs if "requirements.lock" not in run]
    assert project, "no step installs the project itself"
    for run in installs:
        words = shlex.split(run)
        assert "-e" not in words and "--editable" not in words, f"editable install in the image: {run}"
        assert "[dev]" not in run and "pytest" not in run, f"dev dependencies in the image: {run}"
    assert all("--no-deps" in run for run in project), "the project's dependencies must come from the lock only"


def test_the_runtime_stage_holds_the_venv_the_seeds_and_the_entrypoint(final_stage: list[Instruction]) -> None:
    copies = [shlex.split(i.arguments) for i in final_stage if i.keyword == "COPY"]
    assert ["--from=build", "/opt/provocast", "/opt/provocast"] in copies
    seeds = [c for c in copies if c[0] == "seeds"]
    assert seeds, "the seeds are not copied into the image"
    env = env_settings(final_stage)
    assert env["PROVOCAST_SEEDS_DIR"] == seeds[0][-1], "PROVOCAST_SEEDS_DIR must point at the copied seeds"
    assert env["PATH"].startswith("/opt/provocast/bin:"), "the venv's executables (provocast, uvicorn) come first"
    entrypoints = [c for c in copies if c[0] == "deploy/entrypoint.sh"]
    assert entrypoints, "deploy/entrypoint.sh is not copied into the image"
    assert ENTRYPOINT.stat().st_mode & 0o111, "deploy/entrypoint.sh must be executable"


def test_the_build_stage_copies_what_the_package_build_needs(instructions: list[Instruction]) -> None:
    build = _stage_named(instructions, "build")
    sources = {word for i in build if i.keyword == "COPY" for word in shlex.split(i.arguments)[:-1]}
    # pyproject.toml names README.md as the readme, so the build needs it too.
    assert {"pyproject.toml", "README.md", "forecasting", "service", "requirements.lock"} <= sources


def test_runs_as_a_non_root_user(final_stage: list[Instruction]) -> None:
    users = [i for i in final_stage if i.keyword == "USER"]
    assert users, "the runtime stage never switches away from root"
    user = users[-1].arguments.split(":")[0]
    assert user not in {"root", "0"}, f"USER {users[-1].arguments}"
    creates = [i.arguments for i in final_stage if i.keyword == "RUN" and "useradd" in i.arguments]
    assert creates and re.search(rf"\b{re.escape(user)}\b", creates[0]), f"user {user!r} is never created"
    last_user_line = users[-1].line
    for instruction in final_stage:
        if instruction.keyword in {"ENTRYPOINT", "CMD", "HEALTHCHECK"}:
            assert instruction.line > last_user_line, f"line {instruction.line}: {instruction.keyword} before USER"


def test_healthcheck_asks_healthz_with_python_not_curl(final_stage: list[Instruction]) -> None:
    command = healthcheck_command(final_stage)
    assert "/healthz" in command
    assert command.startswith("python -c "), "the slim image has no curl; the check uses Python's urllib"
    assert "curl" not in command and "wget" not in command
    assert "PROVOCAST_PORT" in command, "the check must follow the configured port"
    options = [i.arguments for i in final_stage if i.keyword == "HEALTHCHECK"][-1].split(" CMD ")[0]
    for option in ("--interval=", "--timeout=", "--start-period=", "--retries="):
        assert option in options, f"HEALTHCHECK without {option}"


def test_entrypoint_is_the_script_in_exec_form_and_serves_by_default(final_stage: list[Instruction]) -> None:
    entrypoint = [i for i in final_stage if i.keyword == "ENTRYPOINT"][-1]
    command = [i for i in final_stage if i.keyword == "CMD"][-1]
    program = json.loads(entrypoint.arguments)  # exec form, so signals reach the process directly
    assert json.loads(command.arguments) == ["serve"]
    # tini is PID 1: it reaps orphans and forwards signals, so a stop takes every process of the container.
    assert program[:2] == ["tini", "--"], program
    program = program[2:]
    installs = " ".join(i.arguments for i in final_stage if i.keyword == "RUN")
    assert "install" in installs and " tini" in installs
    copies = [shlex.split(i.arguments) for i in final_stage if i.keyword == "COPY"]
    installed_as = [c[-1] for c in copies if c[0] == "deploy/entrypoint.sh"]
    assert installed_as and program[0] in {installed_as[0], installed_as[0].rsplit("/", 1)[-1]}


def test_workers_port_and_schedule_are_settings(final_stage: list[Instruction]) -> None:
    env = env_settings(final_stage)
    assert int(env["PROVOCAST_WORKERS"]) >= 1
    assert int(env["PROVOCAST_PORT"]) in {
        int(port.split("/")[0]) for i in final_stage if i.keyword == "EXPOSE" for port in i.arguments.split()
    }
    assert parse_cron(env["PROVOCAST_RETRAIN_CRON"])
    script = ENTRYPOINT.read_text(encoding="utf-8")
    assert '--workers "$workers"' in script and "PROVOCAST_WORKERS" in script
    # Limits uvicorn enforces itself: connections per worker and idle keep-alive; forwarded headers from the proxy.
    assert int(env["PROVOCAST_LIMIT_CONCURRENCY"]) >= 1 and int(env["PROVOCAST_KEEP_ALIVE_SECONDS"]) >= 1
    assert '--limit-concurrency "$concurrency"' in script and '--timeout-keep-alive "$keep_alive"' in script


def test_dockerignore_admits_what_the_dockerfile_copies_and_keeps_secrets_out(instructions: list[Instruction]) -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", ".dockerignore starts by excluding everything (.venv, .git, .env, databases)"
    admitted = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    sources = {
        word.rstrip("/")
        for i in instructions
        if i.keyword == "COPY" and "--from=" not in i.arguments
        for word in shlex.split(i.arguments)[:-1]
        if not word.startswith("--")
    }
    assert sources <= admitted, f"copied but excluded from the build context: {sorted(sources - admitted)}"
    assert not any(".env" in name or "venv" in name for name in admitted)


def test_dockerfile_parser_joins_continued_lines(tmp_path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text('FROM x AS build\n# note\nRUN a \\\n  # inner comment\n  && b\nCMD ["c"]\n', encoding="utf-8")
    parsed = dockerfile_instructions(path)
    assert [(i.keyword, i.arguments, i.line) for i in parsed] == [
        ("FROM", "x AS build", 1),
        ("RUN", "a && b", 3),
        ("CMD", '["c"]', 6),
    ]
