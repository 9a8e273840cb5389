"""The Lua scripts are package data, read once: every file is loaded, helpers where needed."""

from __future__ import annotations

from importlib.resources import files

import pytest

from timelines.store.scripts import SCRIPT_NAMES, lua_script


def test_every_lua_file_is_a_script_or_the_helpers():
    on_disk = {p.name.removesuffix(".lua") for p in (files("timelines.store") / "lua").iterdir()}
    assert on_disk == {*SCRIPT_NAMES, "helpers"}


HELPERS = ("merge_desc", "read_list", "write_list", "trim_list", "sorted_args")


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_scripts_get_the_helpers_they_call(name):
    own = (files("timelines.store") / "lua" / f"{name}.lua").read_text()
    source = lua_script(name)
    for helper in HELPERS:
        if f"{helper}(" in own:
            assert f"local function {helper}(" in source, f"{name}.lua calls {helper} without it"
    assert lua_script(name) is source  # read once


def test_an_unknown_script_is_an_error():
    with pytest.raises(ValueError, match="no Lua script"):
        lua_script("helpers")
