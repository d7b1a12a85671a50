"""Tokenisation of post text into *terms*, computed once per post.

A post becomes a ``frozenset[str]`` of terms. Every term carries a prefix naming its *view*, so
the views can be mixed in one analysis and told apart in its output:

``w:``  words. Chinese (Han) runs are segmented with jieba in precise mode (HMM on: unknown
        words such as coinages are still found), or with rjieba (a Rust port of the same
        algorithm and dictionary) when ``engine="rjieba"``; other text is split into
        lowercased (casefolded) letter/digit runs. Stopwords are dropped, and so are one-letter
        latin words. ``"w:六四"``, ``"w:tiananmen"``, ``"w:64"``.
``c2:`` ``c3:`` (or any ``cN:``) Han character n-grams. All non-Han characters (punctuation,
        space, latin, digits, emoji) are removed first and the n-grams are taken over what is
        left, so evasion spellings that break a word up ("六 四", "六.四", "六x四") still give
        ``"c2:六四"``. The price is a few n-grams spanning two sentences; the statistics treat
        them like any other rare term.

A term occurs at most once per post: the set records presence, which is what the per-term
removal statistics count (Bamman, O'Connor & Smith 2012 also work on presence per post).

The set of terms is deterministic for a given text, views, engine and dictionary: jieba's
precise mode has no randomness and its dictionary is loaded once, quietly (jieba's start-up
messages on stderr are silenced with ``jieba.setLogLevel``).

Speed, one core of the 2-core reference machine, 30-60 character posts (``measure_speed``):
character n-grams alone about 48k posts/s; jieba words alone about 6k posts/s; the default
views (words + c2 + c3, ~100 terms a post) about 4.3k posts/s with jieba and 19k posts/s with
rjieba. jieba's first use loads its dictionary (about 1 s).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from memoryhole.errors import MemoryholeError

Engine = Literal["jieba", "rjieba"]

#: The default views: words plus Han bigrams and trigrams.
DEFAULT_VIEWS: Final = ("word", "char2", "char3")

WORD_PREFIX: Final = "w:"

# Han ideographs: CJK Unified Ideographs and Extension A, Compatibility Ideographs, and the
# supplementary planes' Extensions B and later (U+20000-U+3FFFF). Kana and Hangul are not Han
# and are treated as "other" text (word-split, no n-grams).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_HAN_RUN = re.compile(f"[{_HAN}]+")
_NOT_HAN = re.compile(f"[^{_HAN}]+")
# A Han run, or a run of word characters that are neither Han nor "_".
_PIECES = re.compile(f"(?P<han>[{_HAN}]+)|(?P<other>[^\\W_{_HAN}]+)")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Common Chinese function words and English stopwords dropped from the word view. Kept short
#: on purpose: a longer list would hide terms a censor may key on; rare or uninformative terms
#: are the statistics' business, not the tokenizer's.
CHINESE_STOPWORDS: Final = _words(
    """
    的 了 是 在 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己 这 那
    他 她 它 们 我们 你们 他们 她们 这个 那个 这些 那些 之 与 及 而 或 被 把 让 给 对 从 向 为
    为了 以 于 但 但是 所以 因为 如果 就是 还 又 再 吗 呢 吧 啊 呀 哦 嗯 哈 哈哈 啦 嘛 么 什么
    怎么 这样 那样 这么 那么 已经 可以 没 很多 一些 一下 一样 还是 只是 然后 其实 而且 并 并且
    等 等等 中 里 个 地 得 所 者 来 过 下 能 将 该 此 其 各 每 啥 咱 咱们 您 俺
    """
)
ENGLISH_STOPWORDS: Final = _words(
    """
    a an the and or but if of to in on at by for with from as is are was were be been being
    it its this that these those i you he she we they me him her us them my your his our their
    not no do does did so than then there here what which who whom how when where why
    will would can could should shall may might must have has had just also very
    http https www com cn rt
    """
)
STOPWORDS: Final = CHINESE_STOPWORDS | ENGLISH_STOPWORDS


class TokenizerUnavailableError(MemoryholeError):
    """The requested segmentation engine is not installed."""


def char_ngram_prefix(n: int) -> str:
    return f"c{n}:"


def _view_ngram_size(view: str) -> int | None:
    """``"char2"`` -> 2; ``"word"`` -> None; anything else is an error."""
    if view == "word":
        return None
    match = re.fullmatch(r"char([1-9])", view)
    if match is None:
        raise ValueError(f"unknown token view {view!r}: use 'word' or 'charN' (N = 1..9)")
    return int(match.group(1))


def split_term(term: str) -> tuple[str, str]:
    """``"c2:六四"`` -> ``("c2", "六四")``: a term's view prefix and its text."""
    view, sep, text = term.partition(":")
    if not sep:
        raise ValueError(f"not a prefixed term: {term!r}")
    return view, text


_jieba_lock = threading.Lock()


@lru_cache(maxsize=2)
def _segmenter(engine: Engine) -> Callable[[str], Iterable[str]]:
    """A function cutting a Han run into words, initialised once (and quietly)."""
    if engine == "jieba":
        with _jieba_lock:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            tokenizer = jieba.dt

        def cut_jieba(text: str) -> Iterable[str]:
            result: Iterable[str] = tokenizer.cut(text, cut_all=False, HMM=True)
            return result

        return cut_jieba
    if engine == "rjieba":
        try:
            import rjieba
        except ImportError:
            raise TokenizerUnavailableError(
                "engine='rjieba' needs the rjieba package: pip install rjieba "
                "(or use engine='jieba', the default)"
            ) from None

        def cut_rjieba(text: str) -> Iterable[str]:
            words: list[str] = rjieba.cut(text, hmm=True)
            return words

        return cut_rjieba
    raise ValueError(f"unknown segmentation engine {engine!r}: use 'jieba' or 'rjieba'")


@dataclass(frozen=True, slots=True)
class Tokenizer:
    """Turns a post's text into its set of prefixed terms (see the module docstring).

    ``views``: any of ``"word"`` and ``"charN"``. ``engine``: the Chinese word segmenter.
    ``stopwords``: dropped from the word view (compared after casefolding).
    """

    views: Sequence[str] = DEFAULT_VIEWS
    engine: Engine = "jieba"
    stopwords: frozenset[str] = STOPWORDS

    def __post_init__(self) -> None:
        sizes = [_view_ngram_size(view) for view in self.views]
        if not sizes:
            raise ValueError("at least one token view is needed")
        object.__setattr__(self, "views", tuple(self.views))
        if None in sizes:
            _segmenter(self.engine)  # fail now, not on the first post, if it is missing

    @property
    def ngram_sizes(self) -> tuple[int, ...]:
        return tuple(n for n in map(_view_ngram_size, self.views) if n is not None)

    def __call__(self, text: str) -> frozenset[str]:
        terms: set[str] = set()
        if "word" in self.views:
            terms.update(self.words(text))
        sizes = self.ngram_sizes
        if sizes:
            han = "".join(_HAN_RUN.findall(text))
            for n in sizes:
                prefix = char_ngram_prefix(n)
                terms.update([prefix + han[i : i + n] for i in range(len(han) - n + 1)])
        return frozenset(terms)

    def words(self, text: str) -> list[str]:
        """The word view's terms (prefixed, in text order, repeats kept)."""
        cut = _segmenter(self.engine)
        stop = self.stopwords
        out: list[str] = []
        for match in _PIECES.finditer(text):
            han = match.group("han")
            if han is not None:
                out.extend(WORD_PREFIX + w for w in cut(han) if w not in stop and w.strip())
            else:
                word = match.group("other").casefold()
                if word not in stop and (len(word) > 1 or word.isdigit()):
                    out.append(WORD_PREFIX + word)
        return out


@lru_cache(maxsize=16)
def _cached_tokenizer(views: tuple[str, ...], engine: Engine) -> Tokenizer:
    return Tokenizer(views=views, engine=engine)


def tokens_for(
    text: str, views: Sequence[str] = DEFAULT_VIEWS, engine: Engine = "jieba"
) -> frozenset[str]:
    """The set of prefixed terms of one post: ``{"w:六四", "c2:六四", ...}``.

    Convenience wrapper over a cached :class:`Tokenizer`; for a corpus, build one
    ``Tokenizer`` and call it per post.
    """
    return _cached_tokenizer(tuple(views), engine)(text)


def han_only(text: str) -> str:
    """The text's Han characters, everything else removed (what the n-gram views see)."""
    return _NOT_HAN.sub("", text)


def measure_speed(texts: Sequence[str], tokenizer: Tokenizer, min_seconds: float = 1.0) -> float:
    """Posts per second the tokenizer achieves on ``texts`` (repeated for ``min_seconds``)."""
    tokenizer(texts[0])  # warm up (jieba's dictionary load)
    done = 0
    start = time.perf_counter()
    while True:
        for text in texts:
            tokenizer(text)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed
