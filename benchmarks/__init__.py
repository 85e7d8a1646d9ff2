"""Benchmarks: each module runs as ``python -m benchmarks.NAME`` and prints one JSON object."""
