"""Search: a per-state blind index of the cases a state reads, and saved searches."""
