"""Memoised work that belongs to one loaded course.

References, prompts, reference drawings and student outcomes are expensive to compute
and the same for every student who shares a variant, so they are worth keeping. But a
value computed from a spec is only true for that spec: kept at module level, it outlived
the course it was computed for (edit a literal answer, validate again in the same
process, and the old value was used). A `Memo` lives on the `Course` it serves, so a
reloaded course starts empty and a forked worker inherits exactly its parent's course.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Hashable, TypeVar, cast

T = TypeVar("T")

#: Entries kept per table: enough for every variant of a class, bounded for a MOOC.
DEFAULT_SIZE = 4096


class Memo:
    """Named tables of computed values, each bounded and evicted least recently used."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._tables: dict[str, OrderedDict[Hashable, object]] = {}

    def get(self, table: str, key: Hashable, compute: Callable[[], T], limit: int | None = None) -> T:
        """The value stored under `key` in `table`, computing (and storing) it on a miss.
        A computation that raises stores nothing, so the next call tries again. `limit`
        bounds a table of large values more tightly than the default."""
        entries = self._tables.setdefault(table, OrderedDict())
        if key in entries:
            entries.move_to_end(key)
            return cast(T, entries[key])
        value = compute()
        entries[key] = value
        while len(entries) > (limit or self._size):
            entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._tables.values())
