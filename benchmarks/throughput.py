"""Collector throughput vs a bare aiohttp loop, same server, same run.

    .venv/bin/python benchmarks/throughput.py [--seconds 10] [--profile]

(the same as ``memoryhole bench throughput``).
"""

from __future__ import annotations

from memoryhole.cli import main

if __name__ == "__main__":
    import sys

    sys.argv = ["memoryhole", "bench", "throughput", *sys.argv[1:]]
    main()
