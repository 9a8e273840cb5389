"""The store's Lua scripts, read once from ``lua/*.lua`` next to this module.

Every script but ``publish_marked`` (the live feed's, which reads many markers of one node
and writes nothing) touches exactly one key and is idempotent, so a replayed batch or a resend after
a failover never duplicates an id (docs/architecture.md#timeline-store). Scripts that use the
shared functions (``lua/helpers.lua``) get them prepended.
"""

from __future__ import annotations

import functools
from importlib.resources import files

# The scripts built on helpers.lua (merge, read, write and trim a list).
_WITH_HELPERS = frozenset({"insert", "trim", "remove", "rebuild_finish"})
SCRIPT_NAMES = ("insert", "trim", "remove", "rebuild_begin", "rebuild_finish", "touch", "publish_marked")


def _read(name: str) -> str:
    return (files(__package__) / "lua" / f"{name}.lua").read_text(encoding="utf-8")


@functools.cache
def lua_script(name: str) -> str:
    """The full source of one script (``SCRIPT_NAMES``), helpers included where it needs them."""
    if name not in SCRIPT_NAMES:
        raise ValueError(f"no Lua script named {name!r}")
    source = _read(name)
    return _read("helpers") + source if name in _WITH_HELPERS else source
