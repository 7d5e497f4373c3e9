"""Fictional demo and benchmark studies, kept out of the web and worker processes.

Only `trialfinder demo-data`, which imports it inside the command, and the benchmarks
under `bench/` use this package.
"""
