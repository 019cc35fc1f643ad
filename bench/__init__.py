"""kpibot benchmarks: `python -m bench` (see bench/README.md). Not tests: figures and ratios, no assertions on time."""
