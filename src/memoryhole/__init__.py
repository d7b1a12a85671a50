"""memoryhole: an open-source censorship observatory."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from memoryhole.model import Capture, Observation, PostRef, Request, Status, Target, Verdict

if TYPE_CHECKING:
    from memoryhole.notebook import StudyHandle

__version__ = "0.1.0"
__all__ = ["Capture", "Observation", "PostRef", "Request", "Status", "Target", "Verdict", "open"]


def open(path: str | os.PathLike[str], *, raw_author_ids: bool = False) -> StudyHandle:
    """Open a study folder for notebooks: DataFrames, analysis tables, DuckDB SQL
    (``memoryhole.notebook``). Authors are pseudonyms unless ``raw_author_ids=True``."""
    from memoryhole.notebook import open_study

    return open_study(path, raw_author_ids=raw_author_ids)
