"""A structural check of Compose files, written down from the Compose Specification, and its interpolation.

Not the whole specification: every key is checked against the names the
specification allows (so a typo such as `depend_on` is caught), and the
keys this project uses are checked for their type and values. Compose's
`${VAR...}` interpolation is implemented for resolving the file with the
values of deploy/env.example.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TOP_LEVEL_KEYS = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models"}

SERVICE_KEYS = {
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
}
BUILD_KEYS = {
    "context",
    "dockerfile",
    "dockerfile_inline",
    "entitlements",
    "args",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "no_cache",
    "additional_contexts",
    "network",
    "pull",
    "target",
    "shm_size",
    "extra_hosts",
    "isolation",
    "privileged",
    "secrets",
    "tags",
    "ulimits",
    "platforms",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
DEPLOY_KEYS = {
    "mode",
    "replicas",
    "labels",
    "resources",
    "restart_policy",
    "rollback_config",
    "update_config",
    "placement",
    "endpoint_mode",
}
DEPENDS_ON_KEYS = {"condition", "restart", "required"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
VOLUME_KEYS = {"name", "driver", "driver_opts", "external", "labels"}
RESTART = re.compile(r"^(no|always|unless-stopped|on-failure(:\d+)?)$")
DURATION = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")
NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
PORT = re.compile(r"^((\$\{[^}]+\}|[\d.]+):)?(\$\{[^}]+\}|\d+(-\d+)?):\d+(-\d+)?(/(tcp|udp))?$|^\d+$")

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, ${NAME+alt}, $NAME, $$
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(ValueError):
    """A `${NAME:?message}` (or `${NAME?message}`) whose variable is unset."""


def variables_used(text: str) -> set[str]:
    return {m.group("braced") or m.group("bare") for m in INTERPOLATION.finditer(text) if not m.group("escaped")}


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        # With a colon, an empty value counts as unset; without one, only an unset variable does.
        missing = (value is None or value == "") if op and op.startswith(":") else value is None
        if op in {":-", "-"}:
            return arg if missing else value
        if op in {":?", "?"}:
            if missing:
                raise MissingVariable(f"{name}: {arg}")
            return value
        if op in {":+", "+"}:
            return "" if missing else arg
        return value or ""

    return INTERPOLATION.sub(replace, text)


def interpolate_all(node: object, env: Mapping[str, str]) -> object:
    """Every string value of a loaded Compose document interpolated (keys are left alone, as Compose does)."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_all(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate_all(value, env) for key, value in node.items()}
    return node


def environment_of(service: Mapping[str, object]) -> dict[str, str]:
    """A service's `environment`, in either of its two forms, as a dict."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def depends_on_of(service: Mapping[str, object]) -> dict[str, str]:
    """Dependency -> condition (the short list form means service_started)."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {name: "service_started" for name in raw}
    return {name: spec.get("condition", "service_started") for name, spec in raw.items()}


def replicas_of(service: Mapping[str, object]) -> int:
    deploy = service.get("deploy") or {}
    if "replicas" in deploy:
        return int(deploy["replicas"])
    return int(service.get("scale", 1))


def compose_problems(document: object) -> list[str]:
    """Everything in a loaded Compose document that the specification does not allow (empty when valid)."""
    problems: list[str] = []
    if not isinstance(document, dict):
        return ["the file is not a mapping"]
    for key in document:
        if key not in TOP_LEVEL_KEYS and not str(key).startswith("x-"):
            problems.append(f"top level: unknown key {key!r}")
    services = document.get("services")
    if not isinstance(services, dict) or not services:
        return problems + ["services: missing or empty"]
    volumes = document.get("volumes") or {}
    if not isinstance(volumes, dict):
        problems.append("volumes: not a mapping")
        volumes = {}
    for name, spec in volumes.items():
        if not NAME.match(str(name)):
            problems.append(f"volumes.{name}: invalid name")
        for key in spec or {}:
            if key not in VOLUME_KEYS and not str(key).startswith("x-"):
                problems.append(f"volumes.{name}: unknown key {key!r}")
    for name, service in services.items():
        problems += [f"services.{name}: {problem}" for problem in _service_problems(service, services, volumes)]
        if not NAME.match(str(name)):
            problems.append(f"services.{name}: invalid service name")
    return problems


def _service_problems(service: object, services: dict, volumes: dict) -> list[str]:
    if not isinstance(service, dict):
        return ["not a mapping"]
    problems = [f"unknown key {key!r}" for key in service if key not in SERVICE_KEYS and not str(key).startswith("x-")]
    if "image" not in service and "build" not in service:
        problems.append("neither image nor build")
    if "image" in service and not isinstance(service["image"], str):
        problems.append("image: not a string")
    build = service.get("build")
    if isinstance(build, dict):
        problems += [f"build: unknown key {key!r}" for key in build if key not in BUILD_KEYS]
    elif build is not None and not isinstance(build, str):
        problems.append("build: neither a path nor a mapping")
    for key in ("command", "entrypoint"):
        value = service.get(key)
        if (
            value is not None
            and not isinstance(value, str)
            and not (isinstance(value, list) and all(isinstance(word, str) for word in value))
        ):
            problems.append(f"{key}: neither a string nor a list of strings")
    environment = service.get("environment")
    if isinstance(environment, dict):
        for key, value in environment.items():
            if value is not None and not isinstance(value, (str, int, float, bool)):
                problems.append(f"environment.{key}: not a scalar")
    elif isinstance(environment, list):
        problems += [f"environment: {item!r} is not a string" for item in environment if not isinstance(item, str)]
    elif environment is not None:
        problems.append("environment: neither a mapping nor a list")
    problems += _depends_on_problems(service.get("depends_on"), services)
    problems += _healthcheck_problems(service.get("healthcheck"))
    deploy = service.get("deploy")
    if deploy is not None:
        if not isinstance(deploy, dict):
            problems.append("deploy: not a mapping")
        else:
            problems += [f"deploy: unknown key {key!r}" for key in deploy if key not in DEPLOY_KEYS]
            replicas = deploy.get("replicas")
            if replicas is not None and (not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0):
                problems.append("deploy.replicas: not a whole number")
    restart = service.get("restart")
    if restart is not None and not (isinstance(restart, str) and RESTART.match(restart)):
        problems.append(f"restart: {restart!r} is not no, always, unless-stopped or on-failure[:N]")
    for port in service.get("ports") or []:
        if not (isinstance(port, int) or (isinstance(port, str) and PORT.match(port))):
            problems.append(f"ports: {port!r} is not [HOST:]CONTAINER[/PROTOCOL]")
    for mount in service.get("volumes") or []:
        if isinstance(mount, str):
            parts = mount.split(":")
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in {"ro", "rw", "z", "Z"}):
                problems.append(f"volumes: {mount!r} is not SOURCE:TARGET[:MODE]")
            elif not parts[0].startswith((".", "/", "~", "$")) and parts[0] not in volumes:
                problems.append(f"volumes: named volume {parts[0]!r} is not declared at the top level")
        elif not isinstance(mount, dict):
            problems.append(f"volumes: {mount!r} is neither a string nor a mapping")
    return problems


def _depends_on_problems(depends_on: object, services: dict) -> list[str]:
    if depends_on is None:
        return []
    if isinstance(depends_on, list):
        return [f"depends_on: unknown service {name!r}" for name in depends_on if name not in services]
    if not isinstance(depends_on, dict):
        return ["depends_on: neither a list nor a mapping"]
    problems = []
    for name, spec in depends_on.items():
        if name not in services:
            problems.append(f"depends_on: unknown service {name!r}")
        if not isinstance(spec, dict):
            problems.append(f"depends_on.{name}: not a mapping")
            continue
        problems += [f"depends_on.{name}: unknown key {key!r}" for key in spec if key not in DEPENDS_ON_KEYS]
        if "condition" not in spec:
            problems.append(f"depends_on.{name}: the long form needs a condition")
        elif spec["condition"] not in CONDITIONS:
            problems.append(f"depends_on.{name}: unknown condition {spec['condition']!r}")
    return problems


def _healthcheck_problems(healthcheck: object) -> list[str]:
    if healthcheck is None:
        return []
    if not isinstance(healthcheck, dict):
        return ["healthcheck: not a mapping"]
    problems = [f"healthcheck: unknown key {key!r}" for key in healthcheck if key not in HEALTHCHECK_KEYS]
    for key in ("interval", "timeout", "start_period", "start_interval"):
        if key in healthcheck and not (isinstance(healthcheck[key], str) and DURATION.match(healthcheck[key])):
            problems.append(f"healthcheck.{key}: {healthcheck[key]!r} is not a duration such as 5s or 1m30s")
    if "retries" in healthcheck and not isinstance(healthcheck["retries"], int):
        problems.append("healthcheck.retries: not a whole number")
    if "disable" in healthcheck and not isinstance(healthcheck["disable"], bool):
        problems.append("healthcheck.disable: not true or false")
    test = healthcheck.get("test")
    if test is not None:
        if isinstance(test, list):
            if not test or test[0] not in {"CMD", "CMD-SHELL", "NONE"}:
                problems.append("healthcheck.test: a list must start with CMD, CMD-SHELL or NONE")
        elif not isinstance(test, str):
            problems.append("healthcheck.test: neither a string nor a list")
    return problems
