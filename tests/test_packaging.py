"""Packaging: one version everywhere, every dependency declared, bounded and locked with hashes."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import bot
from bot.http.app import create_http_app

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
RUNTIME = [Requirement(line) for line in PROJECT["dependencies"]]
DEV = [Requirement(line) for line in PROJECT["optional-dependencies"]["dev"]]
LOCK_HINT = "run `make lock` and commit requirements.lock and requirements-dev.lock"


def locked(path: Path) -> dict[str, tuple[Version, int]]:
    """name → (pinned version, number of hashes) from a `uv pip compile --generate-hashes` file."""
    pins: dict[str, tuple[Version, int]] = {}
    text = path.read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)", block)
        if match:
            name = canonicalize_name(match[1])
            hashes = len(re.findall(r"--hash=sha256:[0-9a-f]{64}", block))
            # a package may be pinned twice under different markers (numpy by Python version): keep both hashed
            previous = pins.get(name)
            pins[name] = (Version(match[2]), min(hashes, previous[1]) if previous else hashes)
    return pins


@pytest.mark.parametrize(("lock_name", "requirements"), [
    ("requirements.lock", RUNTIME),
    ("requirements-dev.lock", RUNTIME + DEV),
])
def test_every_declared_dependency_is_locked_with_hashes(lock_name: str, requirements: list[Requirement]) -> None:
    pins = locked(ROOT / lock_name)
    missing = [str(r) for r in requirements if canonicalize_name(r.name) not in pins]
    assert not missing, f"declared in pyproject.toml but not in {lock_name}: {missing}; {LOCK_HINT}"
    outside = [f"{r} (locked {pins[canonicalize_name(r.name)][0]})" for r in requirements
               if not r.specifier.contains(pins[canonicalize_name(r.name)][0], prereleases=True)]
    assert not outside, f"{lock_name} pins versions pyproject.toml no longer allows: {outside}; {LOCK_HINT}"
    unhashed = [name for name, (_, hashes) in pins.items() if hashes == 0]
    assert not unhashed, f"{lock_name} has pins without hashes: {unhashed}"


def test_runtime_lock_leaves_out_test_tools() -> None:
    pins = locked(ROOT / "requirements.lock")
    assert "pytest" not in pins and "ruff" not in pins and "hypothesis" not in pins


def test_lock_parser_reads_the_pins() -> None:
    # guards the test above against a parser that finds nothing: the lock pins every runtime dependency
    # and their own dependencies (numpy via matplotlib, anyio via starlette), so more pins than declarations
    pins = locked(ROOT / "requirements.lock")
    assert len(pins) > len(RUNTIME)
    assert {"numpy", "anyio", "fastapi"} <= set(pins)


def test_pre_1_0_and_sdk_dependencies_have_upper_bounds() -> None:
    by_name = {canonicalize_name(r.name): r for r in RUNTIME}
    for name in ("fastapi", "sqlmodel", "typer", "uvicorn", "prometheus-client"):
        assert any(spec.operator in ("<", "<=", "~=", "==") for spec in by_name[name].specifier), name
    # lark-oapi: the minor we test, nothing newer
    assert not by_name["lark-oapi"].specifier.contains("1.8.0")
    assert by_name["lark-oapi"].specifier.contains("1.7.5")


def test_test_only_packages_are_dev_extras() -> None:
    runtime = {canonicalize_name(r.name) for r in RUNTIME}
    dev = {canonicalize_name(r.name) for r in DEV}
    # websockets is a runtime dependency since bot/dingtalk/stream.py connects with it.
    for name in ("httpx", "pytest", "hypothesis"):
        assert name not in runtime and name in dev, name


def _imported_distributions(folders: list[str]) -> dict[str, set[str]]:
    """Distribution → files that import it, for every import (top-level or inside functions) in `folders`."""
    own = {"bot", "jobs", "storage", "tests", "bench"}
    by_module = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in own or top in sys.stdlib_module_names:
                        continue
                    for distribution in by_module.get(top, [top]):
                        found.setdefault(canonicalize_name(distribution), set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_directly_imported_package_is_declared() -> None:
    runtime = {canonicalize_name(r.name) for r in RUNTIME}
    dev = {canonicalize_name(r.name) for r in DEV}
    undeclared = {d: sorted(f) for d, f in _imported_distributions(["bot", "jobs", "storage"]).items()
                  if d not in runtime}
    assert not undeclared, f"imported by the application but not in [project] dependencies: {undeclared}"
    test_only = {d: sorted(f) for d, f in _imported_distributions(["tests"]).items() if d not in runtime | dev}
    assert not test_only, f"imported by tests but declared nowhere (add to the dev extra): {test_only}"


def test_one_version_everywhere() -> None:
    # pyproject takes the version from bot/__init__.py; nowhere else writes it
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bot.__version__"}
    cli = subprocess.run([sys.executable, "-m", "bot.cli", "--version"], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert cli.stdout.strip() == f"kpibot {bot.__version__}"
    openapi = create_http_app(ping=lambda: True, endpoints=[]).openapi()
    assert openapi["info"]["version"] == bot.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{bot.__version__}]" in changelog
    Version(bot.__version__)  # a valid PEP 440 version


def test_license_and_metadata() -> None:
    assert PROJECT["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    for field in ("description", "readme", "requires-python", "authors", "classifiers", "urls"):
        assert PROJECT.get(field), field
