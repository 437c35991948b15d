"""`qa.cache.Recent`: values made once per key, the least recently used dropped first, and one
value per key when threads ask at once."""

from __future__ import annotations

import threading

import pytest

from qa.cache import Recent


def test_recent_keeps_the_recently_used_values() -> None:
    made: list[str] = []
    cache: Recent[str, str] = Recent(2)

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    assert [cache.get(k, make) for k in "abac"] == ["A", "B", "A", "C"]
    assert made == ["a", "b", "c"]  # 'a' the second time came from the cache
    assert "b" not in cache and "a" in cache and len(cache) == 2  # 'b' was the least recently used
    assert cache.get("b", make) == "B" and made[-1] == "b"
    with pytest.raises(ValueError, match="at least one"):
        Recent(0)


def test_recent_under_threads_stays_within_its_size() -> None:
    cache: Recent[int, int] = Recent(8)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(300):
                key = (i + offset) % 20
                assert cache.get(key, lambda k: k * k) == key * key
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) == 8
