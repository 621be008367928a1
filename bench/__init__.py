"""Benchmarks and the load test of Linli (``make bench``); see bench/README.md."""
