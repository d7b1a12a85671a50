"""memoryhole: an open-source censorship observatory."""

from memoryhole.model import Capture, Observation, PostRef, Request, Status, Target, Verdict

__version__ = "0.1.0"
__all__ = ["Capture", "Observation", "PostRef", "Request", "Status", "Target", "Verdict"]
