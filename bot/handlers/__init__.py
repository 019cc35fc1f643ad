"""Command handlers: a parsed command and its context in, a neutral reply out.

Each module here declares its commands in a module-level `COMMANDS` list (see bot/language/registry.py);
`command_registry()` collects them, so a new command is a new module and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

from bot.language.registry import CommandGroup, CommandRegistry


def command_registry() -> CommandRegistry:
    groups: list[CommandGroup] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        groups.extend(getattr(module, "COMMANDS", []))
    return CommandRegistry.of(groups)
