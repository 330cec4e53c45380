"""compose.yaml: valid by the Compose Specification's structure, and wired as the deployment needs.

No container engine runs here, so nothing is started: the file is loaded as
YAML, checked key by key (tests/deploy/compose_rules.py), resolved with the
values of deploy/env.example, and its wiring checked against the Dockerfile,
the entrypoint script and deploy/nginx.conf. Where Debian's docker-compose
(v1) is installed, it validates the file too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from forecasting.lifecycle.schedule import parse_cron
from forecasting.settings import Settings
from tests.deploy import compose_rules
from tests.deploy.compose_rules import (
    MissingVariable,
    compose_problems,
    depends_on_of,
    environment_of,
    interpolate,
    interpolate_all,
    replicas_of,
)
from tests.deploy.conftest import (
    COMPOSE_FILE,
    ENTRYPOINT,
    ENV_EXAMPLE,
    PROJECT_ROOT,
    dockerfile_instructions,
    env_settings,
    load_yaml,
)

REQUIRED_SETTINGS = ("POSTGRES_PASSWORD", "POSTGRES_APP_PASSWORD", "PROVOCAST_API_TOKEN")


def env_example() -> dict[str, str]:
    """deploy/env.example's KEY=VALUE lines (commented-out ones are the optional settings)."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def documented_settings() -> set[str]:
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE))


@pytest.fixture(scope="module")
def raw() -> dict:
    document = load_yaml(COMPOSE_FILE)
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def resolved(raw: dict) -> dict:
    return interpolate_all(raw, env_example())


def provocast_services(compose: dict) -> dict[str, dict]:
    """The services that run this repository's image (built from its Dockerfile)."""
    return {name: s for name, s in compose["services"].items() if "build" in s}


def commands(compose: dict) -> dict[str, list[str]]:
    return {name: list(s.get("command") or ["serve"]) for name, s in provocast_services(compose).items()}


def entrypoint_subcommands() -> set[str]:
    script = ENTRYPOINT.read_text(encoding="utf-8")
    labels = re.findall(r"^ {4}([a-z][a-z| -]*)\)$", script, re.MULTILINE)
    return {word.strip() for label in labels for word in label.split("|")}


def test_compose_file_is_valid_by_the_specification(raw: dict, resolved: dict) -> None:
    assert compose_problems(raw) == []
    assert compose_problems(resolved) == []


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (
            lambda c: c["services"]["api"].update(depend_on={"db": {"condition": "service_healthy"}}),
            "unknown key 'depend_on'",
        ),
        (lambda c: c["services"]["api"]["depends_on"]["db"].update(condition="healthy"), "unknown condition 'healthy'"),
        (lambda c: c["services"]["db"]["healthcheck"].update(interval="5 seconds"), "is not a duration"),
        (lambda c: c["services"]["db"].update(volumes=["dbdata:/var/lib/postgresql/data"]), "'dbdata' is not declared"),
        (lambda c: c["services"]["api"]["deploy"].update(replicas="two"), "deploy.replicas: not a whole number"),
        (lambda c: c["services"]["api"].update(restart="sometimes"), "restart: 'sometimes'"),
        (lambda c: c["services"]["api"].update(environment={"X": {"nested": 1}}), "environment.X: not a scalar"),
        (lambda c: c.update(service={}), "top level: unknown key 'service'"),
    ],
)
def test_the_structural_check_catches_mistakes(raw: dict, mutate, problem: str) -> None:
    broken = yaml.safe_load(yaml.safe_dump(raw))
    mutate(broken)
    assert any(problem in found for found in compose_problems(broken)), compose_problems(broken)


def test_postgres_has_a_healthcheck_and_a_named_volume(resolved: dict) -> None:
    db = resolved["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"] and not db["healthcheck"].get("disable")
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"] and "pgdata" in resolved["volumes"]


def test_every_provocast_service_runs_the_image_of_this_dockerfile(resolved: dict) -> None:
    services = provocast_services(resolved)
    assert set(services) == {"migrate", "api", "scheduler"}
    images = {s["image"] for s in services.values()}
    assert len(images) == 1, f"one image for all of them, not {images}"
    for name, service in services.items():
        context = PROJECT_ROOT / service["build"]["context"]
        assert (context / service["build"].get("dockerfile", "Dockerfile")).is_file(), name
    assert all(command[0] in entrypoint_subcommands() for command in commands(resolved).values()), commands(resolved)


def test_two_api_replicas_and_exactly_one_scheduler(resolved: dict) -> None:
    by_command = commands(resolved)
    serving = [name for name, command in by_command.items() if command[0] == "serve"]
    scheduling = [name for name, command in by_command.items() if command[0] == "retrain-scheduler"]
    assert sum(replicas_of(resolved["services"][name]) for name in serving) == 2
    assert len(scheduling) == 1 and replicas_of(resolved["services"][scheduling[0]]) == 1
    assert not any(command[0] == "retrain" for command in by_command.values()), "retraining runs in the scheduler only"
    schedule = environment_of(resolved["services"][scheduling[0]])["PROVOCAST_RETRAIN_CRON"]
    assert parse_cron(schedule)
    # The scheduler runs the whole loop (sync, then retrain), so it needs the file to sync.
    sync_url = environment_of(resolved["services"][scheduling[0]])["PROVOCAST_SYNC_URL"]
    assert sync_url == Settings.model_fields["sync_url"].default


def test_services_wait_for_a_healthy_database_and_the_migration(resolved: dict) -> None:
    services = resolved["services"]
    assert depends_on_of(services["migrate"]) == {"db": "service_healthy"}
    assert services["migrate"]["restart"] == "no" and commands(resolved)["migrate"] == ["migrate"]
    for name in ("api", "scheduler"):
        assert depends_on_of(services[name]) == {"db": "service_healthy", "migrate": "service_completed_successfully"}


def test_every_provocast_service_uses_the_postgres_service(resolved: dict) -> None:
    db = resolved["services"]["db"]
    postgres = environment_of(db)
    for name, service in provocast_services(resolved).items():
        environment = environment_of(service)
        url = make_url(environment["PROVOCAST_DATABASE_URL"])
        assert url.drivername == "postgresql+psycopg", name
        assert (url.host, url.port) == ("db", 5432), name
        assert url.database == postgres["POSTGRES_DB"], name
        if name == "migrate":  # the owner migrates, then grants the app role row access
            assert url.username == postgres["POSTGRES_USER"], name
            assert url.password == postgres["POSTGRES_PASSWORD"] == env_example()["POSTGRES_PASSWORD"], name
            assert environment["PROVOCAST_APP_ROLE"] == "provocast_app"
        else:  # everything else connects as the app role: rows only
            assert url.username == "provocast_app", name
            assert url.password == postgres["POSTGRES_APP_PASSWORD"] == env_example()["POSTGRES_APP_PASSWORD"], name
    init = next(v for v in db["volumes"] if v.endswith("/docker-entrypoint-initdb.d/10-app-role.sh:ro"))
    script = (PROJECT_ROOT / init.split(":")[0]).read_text(encoding="utf-8")
    assert "CREATE ROLE provocast_app LOGIN" in script and "POSTGRES_APP_PASSWORD" in script


def test_secrets_come_from_the_env_file_or_environment_never_the_compose_file(raw: dict) -> None:
    api = environment_of(raw["services"]["api"])
    assert re.fullmatch(r"\$\{PROVOCAST_API_TOKEN:\?[^}]+\}", api["PROVOCAST_API_TOKEN"])
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", environment_of(raw["services"]["db"])["POSTGRES_PASSWORD"])
    for variable in REQUIRED_SETTINGS:
        without = {key: value for key, value in env_example().items() if key != variable}
        with pytest.raises(MissingVariable, match=variable):
            interpolate_all(raw, without)
    used = compose_rules.variables_used(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert used <= documented_settings(), (
        f"not documented in deploy/env.example: {sorted(used - documented_settings())}"
    )
    assert (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").count("/.env") == 1


def test_health_checks_fit_what_each_container_runs(resolved: dict) -> None:
    services = resolved["services"]
    # The image's HEALTHCHECK asks the HTTP service; only `serve` containers run one.
    for name, command in commands(resolved).items():
        disabled = bool((services[name].get("healthcheck") or {}).get("disable"))
        assert disabled == (command[0] != "serve"), name


def test_one_published_port_the_proxy_in_front_of_the_replicas(resolved: dict) -> None:
    services = resolved["services"]
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert list(published) == ["proxy"], "replicas cannot share a host port; only the proxy publishes one"
    host, container = published["proxy"][0].split(":")
    assert host == "8000"
    assert depends_on_of(services["proxy"]) == {"api": "service_started"}
    mount = next(m for m in services["proxy"]["volumes"] if m.endswith(":/etc/nginx/nginx.conf:ro"))
    config = (PROJECT_ROOT / mount.split(":")[0]).read_text(encoding="utf-8")
    assert re.search(rf"^\s*listen {container};", config, re.MULTILINE)
    port = env_settings(dockerfile_instructions())["PROVOCAST_PORT"]
    assert re.search(rf"set \$\w+ http://api:{port};", config), "nginx must proxy to the api service's port"
    assert "resolver 127.0.0.11" in config, "re-resolving the name is what spreads requests over new replicas"
    for directive in ("limit_req_zone", "limit_conn_zone", "client_header_timeout", "large_client_header_buffers"):
        assert re.search(rf"^\s*{directive} ", config, re.MULTILINE), f"nginx without {directive}"
    assert re.search(r"^\s*limit_req zone=", config, re.MULTILINE) and re.search(
        r"^\s*limit_conn ", config, re.MULTILINE
    )
    # The client's address replaces X-Forwarded-For, and uvicorn believes it only from the proxy's fixed address.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
    proxy_address = services["proxy"]["networks"]["default"]["ipv4_address"]
    assert services["api"]["environment"]["FORWARDED_ALLOW_IPS"] == proxy_address


def test_interpolation_follows_the_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} $SET $$SET", env) == "x d  d x $SET"
    assert interpolate("${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}", env) == "alt||alt"
    with pytest.raises(MissingVariable, match="EMPTY: say so"):
        interpolate("${EMPTY:?say so}", env)
    assert interpolate("${EMPTY?fine}", env) == ""


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_docker_compose_v1_validates_the_file(raw: dict, tmp_path: Path) -> None:
    # docker-compose 1.29 predates the top-level `name`; everything else it checks against its own schema.
    copy = {key: value for key, value in raw.items() if key != "name"}
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(copy, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        ["docker-compose", "--project-directory", str(PROJECT_ROOT), "-f", str(path), "config", "--quiet"],
        env={"PATH": "/usr/bin:/bin", **env_example()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
