"""Platform adapters behind one small Protocol (see ``base.Platform``) and their registry."""

from memoryhole.platforms.base import Platform
from memoryhole.platforms.registry import available, get, parse_target

__all__ = ["Platform", "available", "get", "parse_target"]
