"""copier_bridge's own machinery: the Jinja strings compiled once while copier runs."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment
from jinja2.sandbox import SandboxedEnvironment

from scaffold import copier_bridge


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Any, Any]]:
    """Every call that reaches Jinja's own ``Environment.compile``: (environment, source, name)."""
    calls: list[tuple[int, Any, Any]] = []
    real = Environment.compile

    def counted(self: Environment, source: Any, name: Any = None, *args: Any) -> Any:
        calls.append((id(self), source, name))
        return real(self, source, name, *args)

    monkeypatch.setattr(Environment, "compile", counted)
    return calls


def test_while_copier_runs_a_string_is_compiled_once_per_environment(
    compiles: list[tuple[int, Any, Any]],
) -> None:
    first, second = SandboxedEnvironment(), SandboxedEnvironment()
    with copier_bridge._strings_compiled_once():
        rendered = [
            first.from_string("{{ name }}.yml").render(name="a"),
            first.from_string("{{ name }}.yml").render(name="b"),
            second.from_string("{{ name }}.yml").render(name="c"),
            first.from_string("{{ name | upper }}").render(name="d"),
        ]
    assert rendered == ["a.yml", "b.yml", "c.yml", "D"]
    assert [(env, source) for env, source, _ in compiles] == [
        (id(first), "{{ name }}.yml"),
        (id(second), "{{ name }}.yml"),
        (id(first), "{{ name | upper }}"),
    ]


def test_named_templates_are_left_to_jinjas_own_cache(
    compiles: list[tuple[int, Any, Any]],
) -> None:
    env = SandboxedEnvironment()
    with copier_bridge._strings_compiled_once():
        env.compile("{{ x }}", name="a.txt.jinja")
        env.compile("{{ x }}", name="a.txt.jinja")
    assert [name for _, _, name in compiles] == ["a.txt.jinja", "a.txt.jinja"]


def test_jinja_compiles_every_string_again_once_copier_is_done_even_after_an_error(
    compiles: list[tuple[int, Any, Any]],
) -> None:
    env = SandboxedEnvironment()

    def copier_failing() -> None:
        with copier_bridge._strings_compiled_once():
            env.from_string("{{ x }}")
            raise RuntimeError("copier failed")

    with pytest.raises(RuntimeError):
        copier_failing()
    env.from_string("{{ x }}")
    env.from_string("{{ x }}")
    assert len(compiles) == 3


def test_overlapping_copier_runs_keep_the_strings_until_the_last_ends_then_put_jinja_back(
    compiles: list[tuple[int, Any, Any]],
) -> None:
    """`scaffold smoke` renders presets in threads: runs overlap, and end in any order."""
    jinjas_own = Environment.compile
    env = SandboxedEnvironment()
    first, second = copier_bridge._strings_compiled_once(), copier_bridge._strings_compiled_once()
    first.__enter__()
    second.__enter__()
    env.from_string("{{ x }}")
    first.__exit__(None, None, None)  # the first run ends before the second
    env.from_string("{{ x }}")
    assert len(compiles) == 1
    second.__exit__(None, None, None)
    assert Environment.compile is jinjas_own
    env.from_string("{{ x }}")
    assert len(compiles) == 2
