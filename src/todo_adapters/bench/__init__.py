"""Benchmark tooling: realistic data for load tests, and the ``todo bench`` command.

Nothing here runs in the service; ``bench/run.py`` (in the checkout) drives it.
"""

from todo_adapters.bench.commands import add_bench_commands
from todo_adapters.bench.seed import GENERATOR, SPAN_END, SeedOutcome, SeedPlan, seed_database

__all__ = ["GENERATOR", "SPAN_END", "SeedOutcome", "SeedPlan", "add_bench_commands", "seed_database"]
