"""The Dockerfile and compose.yaml agree with the app: command, port, health check, user."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from service.app import create_app
from service.cli import build_parser
from service.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
Instruction = tuple[str, str]


def instructions(dockerfile: Path = REPO_ROOT / "Dockerfile") -> list[Instruction]:
    """(KEYWORD, arguments) per instruction; continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (keyword.upper(), rest.strip())
        for keyword, _, rest in (line.partition(" ") for line in lines)
        if keyword and not keyword.startswith("#")
    ]


def runtime_stage() -> list[Instruction]:
    """The instructions of the last stage: what the image runs."""
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def only(keyword: str) -> str:
    [value] = [rest for key, rest in runtime_stage() if key == keyword]
    return value


def cmd() -> list[str]:
    command: list[str] = json.loads(only("CMD"))
    return command


def served_port() -> int:
    args = build_parser().parse_args(cmd()[1:])
    port: int = args.port
    return port


def test_cmd_is_capplan_serve_on_all_interfaces() -> None:
    """The image starts the service like the README does: `capplan serve --host 0.0.0.0`."""
    command = cmd()
    args = build_parser().parse_args(command[1:])
    assert command[:2] == ["capplan", "serve"]
    assert (args.command, args.host) == ("serve", "0.0.0.0")  # noqa: S104 - in a container


def test_exposed_port_is_the_served_port() -> None:
    """EXPOSE names the port CMD serves on."""
    assert only("EXPOSE").split() == [str(served_port())]


def test_healthcheck_probes_health_on_the_served_port(tmp_path: Path) -> None:
    """HEALTHCHECK fetches /health on the served port, and /health is a route of the app."""
    probe = only("HEALTHCHECK")
    [url] = re.findall(r"http://[^'\" ]+", probe)
    parts = urlsplit(url)
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    assert (parts.hostname, parts.port, parts.path) == ("127.0.0.1", served_port(), "/health")
    assert "/health" in {route.path for route in app.routes}


def test_runtime_user_is_numeric_and_not_root() -> None:
    """USER is a numeric uid (hadolint DL3066; Kubernetes runAsNonRoot can verify it)."""
    user = only("USER")
    assert re.fullmatch(r"\d+(:\d+)?", user)
    assert int(user.split(":")[0]) != 0


def test_build_is_multi_stage_from_the_lock_file() -> None:
    """Dependencies install with `uv sync --locked` in a build stage the runtime copies from."""
    steps = instructions()
    stages = [rest for keyword, rest in steps if keyword == "FROM"]
    builds = [rest for keyword, rest in steps if keyword == "RUN" and "uv sync" in rest]
    assert len(stages) >= 2
    assert builds
    assert all("--locked" in build and "--no-dev" in build for build in builds)
    assert any(rest.startswith("--from=build") for key, rest in runtime_stage() if key == "COPY")


def test_runtime_stage_has_no_build_tools() -> None:
    """The runtime stage neither copies uv in nor installs packages."""
    runtime = " ".join(f"{key} {rest}" for key, rest in runtime_stage())
    for tool in ("astral-sh/uv", "apt-get", "pip install", "uv sync", "gcc"):
        assert tool not in runtime


def test_configuration_is_environment_only() -> None:
    """Nothing but code, migrations and the seed catalog is copied into the image."""
    copied = {rest.split()[0] for key, rest in instructions() if key == "COPY"}
    assert not {path for path in copied if path.endswith((".env", ".ini", ".toml.local"))}
    assert "DATABASE_URL=" in only("ENV")


@pytest.fixture
def compose() -> dict[str, dict[str, dict[str, object]]]:
    document: dict[str, dict[str, dict[str, object]]] = yaml.safe_load(
        (REPO_ROOT / "compose.yaml").read_text(encoding="utf-8")
    )
    return document


def test_compose_database_is_postgres_16_with_a_healthcheck(compose: dict) -> None:
    """compose.yaml runs postgres:16 with a health check the service waits for."""
    db = compose["services"]["db"]
    api = compose["services"]["api"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert api["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_compose_service_uses_asyncpg_on_the_db_service(compose: dict) -> None:
    """The service's DATABASE_URL is asyncpg on the compose `db` host, and its port is published."""
    api = compose["services"]["api"]
    url = urlsplit(api["environment"]["DATABASE_URL"])
    assert (url.scheme, url.hostname) == ("postgresql+asyncpg", "db")
    assert any(str(port).endswith(f":{served_port()}") for port in api["ports"])
