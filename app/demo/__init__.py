"""Fictional demo and benchmark studies, kept out of the web and worker processes.

`generator` builds the studies; `vocabulary` loads and checks the hand-written tables it
draws from, the JSON files in `data/`. Only `trialfinder demo-data`, which imports it
inside the command, and the benchmarks under `bench/` use this package.
"""
