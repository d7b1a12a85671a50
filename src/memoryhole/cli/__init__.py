"""The ``memoryhole`` command line (``main.py``)."""

from memoryhole.cli.apps import app
from memoryhole.cli.main import main

__all__ = ["app", "main"]
