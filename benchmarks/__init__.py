"""On-demand benchmarks; results are written down in benchmarks/README.md."""
