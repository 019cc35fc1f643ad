"""Repositories: the only way in and out of the tables. Each takes a `Session` (a unit of work)."""
