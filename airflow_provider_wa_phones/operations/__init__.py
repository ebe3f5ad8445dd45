"""Each remote operation of each service, described once (no I/O)."""
