"""Every command module, imported once so its ``@command`` records register in ``REGISTRY``.

Registration order is help order. A new command module adds itself to ``MODULES``.
"""

from __future__ import annotations

from dialogs import commands, host, housekeeping, oncall_commands
from dialogs.registry import REGISTRY

MODULES = (commands, host, housekeeping, oncall_commands)

__all__ = ["MODULES", "REGISTRY"]
