"""Packages whose re-exports load on first use (jobs/lazy.py): every exported name is found in the submodule the
package names for it (a wrong entry would only fail when that name is first read), and an unknown name fails as
it would in any module."""

from __future__ import annotations

import importlib

import pytest

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

LAZY_PACKAGES = ("jobs.alerts", "jobs.digest", "jobs.ingest", "jobs.sources")


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_export_resolves_and_an_unknown_name_is_an_attribute_error(name: str) -> None:
    package = importlib.import_module(name)
    for export in package.__all__:
        assert getattr(package, export) is not None, export  # AttributeError when the map names a wrong submodule
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        package.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec(f"from {name} import no_such_name")
