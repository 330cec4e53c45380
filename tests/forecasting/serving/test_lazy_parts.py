"""Parts of a loaded version built on first use: once, under concurrency, written back unchanged when never built."""

import threading
import time

import pytest

from forecasting.serving.lazy_parts import DamagedPart, LazyParts, write_parts


def counting_build(calls: list[str]):  # type: ignore[no-untyped-def]
    def build(spec: dict[str, str]) -> str:
        calls.append(spec["name"])
        time.sleep(0.01)  # widens the window in which two readers could both build (a race, not a timing test)
        return spec["name"].upper()

    return build


def test_keys_are_known_without_building_and_each_value_is_built_once() -> None:
    calls: list[str] = []
    parts = LazyParts({"a": {"name": "a"}, "b": {"name": "b"}}, counting_build(calls), "part")
    assert list(parts) == ["a", "b"] and len(parts) == 2 and "a" in parts and "c" not in parts
    assert parts.built == 0 and calls == []
    assert parts["a"] == "A" and parts["a"] == "A"
    assert calls == ["a"] and parts.built == 1
    with pytest.raises(KeyError):
        parts["c"]


def test_concurrent_first_reads_build_once() -> None:
    calls: list[str] = []
    parts = LazyParts({"a": {"name": "a"}}, counting_build(calls), "part")
    results: list[str] = []
    readers = [threading.Thread(target=lambda: results.append(parts["a"])) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert results == ["A"] * 8 and calls == ["a"]


def test_written_back_as_read_when_never_built_and_from_the_value_once_built() -> None:
    stored = {"a": {"name": "a", "extra": 1}, "b": {"name": "b"}}
    parts = LazyParts(stored, counting_build([]), "part")
    assert write_parts(parts, lambda v: {"name": v.lower()}) == stored  # nothing built, nothing lost
    parts["b"]
    assert write_parts(parts, lambda v: {"name": v.lower(), "built": True}) == {
        "a": {"name": "a", "extra": 1},
        "b": {"name": "b", "built": True},
    }
    assert parts.built == 1
    assert write_parts({"x": "X"}, str.lower) == {"x": "x"}  # a plain dict (a freshly trained set) too


def test_a_part_that_cannot_be_built_is_a_damaged_part_not_bad_input() -> None:
    parts = LazyParts({"a": {"nom": "a"}}, counting_build([]), "answers of weapons")
    with pytest.raises(DamagedPart, match="stored answers of weapons 'a' cannot be read: KeyError") as raised:
        parts["a"]
    assert not isinstance(raised.value, ValueError)
    with pytest.raises(DamagedPart):  # still refused on the next read: nothing half-built was kept
        parts["a"]
