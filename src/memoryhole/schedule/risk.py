"""A post's removal risk from what is known when it is published: its text and its author.

Features: the text's Han character bigrams (a censor's keyword shows up as the bigrams it is
made of, whatever surrounds it) and its latin/digit words, plus one feature for the author.

Each feature keeps *observed* removals O and *expected* removals E: the cumulative baseline
hazard (``RemovalHazard``) over the ages at which posts carrying it were seen at risk. O/E is
the feature's relative risk (1 = as likely as the average post), shrunk towards 1 by
``shrink`` pseudo-removals, so a bigram seen in one removed post says little and one in twenty
says a lot. A post's relative risk is the largest of its features' (a keyword is one strong
feature among many ordinary ones, which an average would drown), clamped to [0.2, 50].

Everything starts at the prior O = E = 0 (relative risk 1 for every post) and is learnt online.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np
import numpy.typing as npt

_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+")
_WORD = re.compile(r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
AUTHOR_PREFIX = "\x00author:"
MIN_RISK, MAX_RISK = 0.2, 50.0

IntArray = npt.NDArray[np.int64]


def text_features(text: str) -> list[str]:
    """Han bigrams and lower-cased latin/digit words (two characters or more), each once."""
    features: dict[str, None] = {}
    for run in _HAN_RUN.findall(text):
        for i in range(len(run) - 1):
            features[run[i : i + 2]] = None
    for word in _WORD.findall(text.casefold()):
        features[word] = None
    return list(features)


def feature_key(feature: str) -> int:
    """A feature's 64-bit key (BLAKE2b): what the durable state keeps instead of the text."""
    digest = hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class RiskModel:
    """Features are indexed by their 64-bit key (``feature_key``), so the learnt counts can be
    kept (``snapshot``) and restored without keeping any text: a restored model maps a feature
    to the index it had by its key. Names are known for the features seen since.

    ``forget(factor)`` weighs every count down at once without touching the arrays: they hold
    counts ÷ ``scale`` (what was added since counts more), so a commit of the durable state
    rewrites only the chunks of features that changed, not all of them."""

    def __init__(self, *, shrink: float = 3.0) -> None:
        self.shrink = shrink
        self.scale = 1.0
        self.vocabulary: dict[str, int] = {}
        self.names: list[str] = []
        self.keys: npt.NDArray[np.int64] = np.zeros(1024, dtype=np.int64)
        self._by_key: dict[int, int] = {}
        self.observed: npt.NDArray[np.float64] = np.zeros(1024)
        self.expected: npt.NDArray[np.float64] = np.zeros(1024)

    def _index(self, feature: str) -> int:
        index = self.vocabulary.get(feature)
        if index is None:
            key = feature_key(feature)
            index = self._by_key.get(key)
            if index is None:
                index = len(self.names)
                self._by_key[key] = index
                self.names.append(feature)
                if index >= len(self.observed):
                    grow = len(self.observed)
                    self.observed = np.concatenate([self.observed, np.zeros(grow)])
                    self.expected = np.concatenate([self.expected, np.zeros(grow)])
                    self.keys = np.concatenate([self.keys, np.zeros(grow, dtype=np.int64)])
                self.keys[index] = key
            else:
                self.names[index] = feature
            self.vocabulary[feature] = index
        return index

    @property
    def size(self) -> int:
        return len(self.names)

    def snapshot(self) -> dict[str, npt.NDArray[Any]]:
        n = self.size
        return {
            "risk.keys": self.keys[:n],
            "risk.observed": self.observed[:n],
            "risk.expected": self.expected[:n],
            "risk.scale": np.array([self.scale]),
        }

    def restore(self, arrays: dict[str, npt.NDArray[Any]], capacity: int) -> None:
        keys = arrays["risk.keys"].astype(np.int64)
        n = len(keys)
        capacity = max(capacity, n, 1)
        self.keys = np.zeros(capacity, dtype=np.int64)
        self.observed = np.zeros(capacity)
        self.expected = np.zeros(capacity)
        self.keys[:n] = keys
        self.observed[:n] = arrays["risk.observed"]
        self.expected[:n] = arrays["risk.expected"]
        scale = arrays.get("risk.scale")  # absent: saved before counts could fade
        self.scale = 1.0 if scale is None else float(scale[0])
        self.vocabulary = {}
        self.names = [""] * n  # known again as features are seen
        self._by_key = {int(key): index for index, key in enumerate(keys.tolist())}

    def features(self, text: str, author_id: str) -> IntArray:
        """Feature indices of a post; the author's feature comes first."""
        indices = [self._index(AUTHOR_PREFIX + author_id)]
        indices += [self._index(feature) for feature in text_features(text)]
        return np.array(indices, dtype=np.int64)

    def expose(self, features: IntArray, expected: float) -> None:
        """Posts with these features were at risk of ``expected`` more baseline removals."""
        if expected > 0:  # a post's features are distinct: no np.add.at
            self.expected[features] += expected / self.scale

    def removed(self, features: IntArray) -> None:
        self.observed[features] += 1.0 / self.scale

    def forget(self, factor: float) -> None:
        """Weigh every count down by ``factor`` (from the hazard's ``forget``)."""
        if factor >= 1.0:
            return
        self.scale *= factor
        if self.scale < 1e-150:  # fold the scale into the counts long before they overflow
            n = self.size
            self.observed[:n] *= self.scale
            self.expected[:n] *= self.scale
            self.scale = 1.0

    def counts(self, features: IntArray) -> tuple[npt.NDArray[np.float64], ...]:
        """Observed and expected removals of these features, as they count now."""
        return self.observed[features] * self.scale, self.expected[features] * self.scale

    def relative_risks(self, features: IntArray) -> npt.NDArray[np.float64]:
        s = self.shrink
        observed, expected = self.counts(features)
        result: npt.NDArray[np.float64] = (observed + s) / (expected + s)
        return result

    def risk(self, features: IntArray) -> float:
        if len(features) == 0:
            return 1.0
        return float(min(max(self.relative_risks(features).max(), MIN_RISK), MAX_RISK))

    def top(self, features: IntArray, count: int = 3) -> list[tuple[str, float, float, float]]:
        """The post's riskiest features: (name, relative risk, observed, expected)."""
        if len(features) == 0:
            return []
        risks = self.relative_risks(features)
        observed, expected = self.counts(features)
        order = np.argsort(-risks, kind="stable")[:count]
        out = []
        for i in order:
            index = int(features[i])
            name = self.names[index] or f"feature #{index} (not seen since the run resumed)"
            if name.startswith(AUTHOR_PREFIX):
                name = "author"
            out.append((name, float(risks[i]), float(observed[i]), float(expected[i])))
        return out
