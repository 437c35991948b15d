"""One small cache for per-object memos (a method's recent results), where `functools.lru_cache`
would key on the object and keep it alive: the recently used values by key, the least recently
used dropped first, safe to share between the threads of the page server."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """`Recent(2).get(key, make)`: the value made for `key` before, else `make(key)`, kept.

    With room for 2: get 'a', get 'b', get 'a', get 'c' -> 'b' is dropped ('a' was used more recently).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a cache needs room for at least one value")
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[K], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make(key)  # outside the lock: one slow value does not hold up the others
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items
