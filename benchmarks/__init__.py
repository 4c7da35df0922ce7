"""Benchmarks of ray_magics, each run as a module from the repository root: `.venv/bin/python -m benchmarks.<name>`."""
