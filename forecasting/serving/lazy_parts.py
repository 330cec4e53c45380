"""Parts of a loaded version built from their stored form on first use.

A version's artifact holds, per event group, a few dozen fitted models and their stored answers. Building them all
when a worker starts took over half a second, most of it for (group, model) pairs that a given worker may never be
asked about. A `LazyParts` mapping knows every key at once (so listings, checks and the OpenAPI enums need nothing
built) and builds a value the first time it is read, once, under a lock. The stored form is dropped once built,
so memory ends where eager loading started: the built values.

What is read was checked whole when the version was read (its sha256 against the registry row, and the JSON
parsed); a part that still cannot be built raises `DamagedPart`, which the service answers as a 503.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class DamagedPart(Exception):
    """A stored part of a loaded version cannot be built: the version cannot answer that question.

    Not a ValueError, so that no handler of bad input mistakes it for the client's fault.
    """

    def __init__(self, what: str, key: str, error: Exception):
        super().__init__(f"the model version's stored {what} '{key}' cannot be read: {type(error).__name__}: {error}")


class LazyParts(Mapping[str, V], Generic[V]):
    """`key -> value`, each value built from its stored form by `build` when first read."""

    def __init__(self, stored: Mapping[str, Any], build: Callable[[Any], V], what: str):
        self._stored: dict[str, Any] = dict(stored)
        self._built: dict[str, V] = {}
        self._build = build
        self._what = what
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> V:
        value = self._built.get(key)
        if value is not None:
            return value
        with self._lock:
            value = self._built.get(key)
            if value is None:
                spec = self._stored[key]  # KeyError for an unknown key, as any mapping
                try:
                    value = self._build(spec)
                except Exception as error:
                    raise DamagedPart(self._what, key, error) from error
                self._built[key] = value
                self._stored[key] = None  # the built value replaces it
        return value

    def __contains__(self, key: object) -> bool:  # Mapping's default would build the value
        return key in self._stored

    def __iter__(self) -> Iterator[str]:
        return iter(self._stored)

    def __len__(self) -> int:
        return len(self._stored)

    def stored_form(self, key: str, write: Callable[[V], Any]) -> Any:
        """What to write for `key`: the stored form as read when the part was never built, else `write(value)`."""
        value = self._built.get(key)
        return self._stored[key] if value is None else write(value)

    @property
    def built(self) -> int:
        return len(self._built)


def write_parts(parts: Mapping[str, V], write: Callable[[V], Any]) -> dict[str, Any]:
    """Every part's stored form, building none that is not built yet."""
    if isinstance(parts, LazyParts):
        return {key: parts.stored_form(key, write) for key in parts}
    return {key: write(value) for key, value in parts.items()}
