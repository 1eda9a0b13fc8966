"""Benchmarks: each script measures one thing and rewrites its own section of
docs/performance.md (see report.py). `make bench` runs them all."""
