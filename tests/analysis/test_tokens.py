"""Tokenisation: views and prefixes, evasion spellings, stopwords, engines, determinism."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memoryhole.analysis import tokens as tokens_module
from memoryhole.analysis.tokens import (
    Tokenizer,
    TokenizerUnavailableError,
    han_only,
    split_term,
    tokens_for,
)


def test_views_and_prefixes() -> None:
    terms = tokens_for("纪念六四，Tiananmen 1989！")
    assert {"w:六四", "w:tiananmen", "w:1989", "c2:六四", "c2:纪念", "c3:念六四"} <= terms
    assert all(split_term(t)[0] in {"w", "c2", "c3"} for t in terms)
    assert not any(t.startswith("c2:") and not t[3:].isalpha() for t in terms)
    only_words = tokens_for("纪念六四", views=("word",))
    assert all(t.startswith("w:") for t in only_words)
    only_chars = tokens_for("纪念六四", views=("char2",))
    assert only_chars == {"c2:纪念", "c2:念六", "c2:六四"}


def test_evasion_spellings_share_char_ngrams() -> None:
    for spelling in ("六四", "六 四", "六.四", "六x四", "六😀四", "六_四"):
        assert "c2:六四" in tokens_for(spelling, views=("char2",)), spelling
    assert han_only("a六 b四!") == "六四"


def test_stopwords_punctuation_and_latin() -> None:
    terms = tokens_for("我的 the THE Hello，世界！ a 5", views=("word",))
    assert "w:的" not in terms and "w:the" not in terms and "w:a" not in terms
    assert "w:hello" in terms and "w:5" in terms
    assert not any(t[2:].strip() != t[2:] or not t[2:] for t in terms)
    assert tokens_for("") == frozenset()
    assert tokens_for("，。！？ ...") == frozenset()
    custom = Tokenizer(views=("word",), stopwords=frozenset({"hello"}))
    assert "w:hello" not in custom("hello world")


def test_bad_views_rejected() -> None:
    with pytest.raises(ValueError, match="unknown token view"):
        tokens_for("x", views=("words",))
    with pytest.raises(ValueError):
        Tokenizer(views=())
    with pytest.raises(ValueError, match="not a prefixed term"):
        split_term("六四")


@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_any_text_tokenises_deterministically(text: str) -> None:
    first = tokens_for(text)
    assert first == tokens_for(text)
    for term in first:
        view, body = split_term(term)
        assert body
        if view in ("c2", "c3"):
            assert len(body) == int(view[1]) and han_only(body) == body


def test_jieba_initialises_quietly() -> None:
    code = (
        "from memoryhole.analysis.tokens import tokens_for; print(sorted(tokens_for('六四天安门')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stderr == ""
    assert "w:六四" in result.stdout


def test_rjieba_engine_agrees_when_installed() -> None:
    pytest.importorskip("rjieba")
    text = "今天我们在天安门广场纪念六四，政府删除了这条微博"
    assert tokens_for(text, engine="rjieba") == tokens_for(text, engine="jieba")


def test_missing_rjieba_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rjieba", None)
    tokens_module._segmenter.cache_clear()
    tokens_module._cached_tokenizer.cache_clear()
    try:
        with pytest.raises(TokenizerUnavailableError, match="pip install rjieba"):
            tokens_for("六四", engine="rjieba")
        assert tokens_for("六四", views=("char2",), engine="rjieba") == {"c2:六四"}
    finally:
        tokens_module._segmenter.cache_clear()
        tokens_module._cached_tokenizer.cache_clear()


def test_core_import_stays_light() -> None:
    code = (
        "import sys, memoryhole, memoryhole.analysis, memoryhole.analysis.tokens\n"
        "heavy = [m for m in ('scipy', 'pandas', 'lifelines', 'jieba') if m in sys.modules]\n"
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
