"""Performance: FLOP counts and the benchmark's measurements."""
