"""The response caches of a loaded version: the memo is bounded in count and in bytes."""

from __future__ import annotations

from service.edge.response_caches import ResponseMemo


def test_the_memo_drops_the_least_recently_used_beyond_its_count_or_its_bytes() -> None:
    memo = ResponseMemo(size=3, max_bytes=250)
    for key in "abc":
        memo.put(key, b"x" * 100)  # 300 bytes: over the byte bound, so "a" goes
    assert memo.get("a") is None and len(memo) == 2 and memo.bytes == 200
    memo.get("b")  # "b" is now the most recently used
    memo.put("d", b"y" * 100)
    assert memo.get("c") is None and memo.get("b") is not None and memo.bytes <= 250
    memo.put("d", b"z" * 10)  # replacing a body counts its new size only
    assert memo.bytes == 110
    counted = ResponseMemo(size=2)
    for key in "abc":
        counted.put(key, b"x")
    assert len(counted) == 2 and counted.get("a") is None
