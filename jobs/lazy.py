"""Package re-exports that load their submodule on first use (PEP 562 `__getattr__`).

A package such as `jobs.alerts` re-exports the names its callers use (`from jobs.alerts import snooze`); done with
plain imports, reading one constant loads every submodule and what they import (the delivery ledger, Prometheus,
the scheduler …), which `kpibot status` pays for at every start. The package lists its names for the type checker
under `if TYPE_CHECKING:` and hands the same names to `lazy_exports`, which loads a submodule when one of its
names is first read."""

from __future__ import annotations

import sys
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]) -> Callable[[str], object]:
    """The `__getattr__` of `package`: `exports` maps each submodule (relative name) to the names it provides."""
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> object:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        # `__import__`, not importlib.import_module: an import statement's path, so `python -X importtime` lists
        # the submodule (tests/test_cli.py reads that list)
        value = getattr(__import__(f"{package}.{module}", fromlist=[name]), name)
        setattr(sys.modules[package], name, value)  # read once: later reads do not come here
        return value

    return __getattr__
