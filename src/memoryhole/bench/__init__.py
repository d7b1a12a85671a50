"""Benchmarks behind ``memoryhole bench``; the scripts in benchmarks/ call these."""
