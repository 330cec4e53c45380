"""What answers before the router: the fast path for memoised GETs."""
