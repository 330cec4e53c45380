"""What answers before the router: the fast path for memoised GETs, and the response caches behind it."""
