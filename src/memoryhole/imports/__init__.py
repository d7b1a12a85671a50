"""Imports of past datasets: ``memoryhole import KIND FILE [--skip-bad] [--study DIR]``.

Kinds: ``weiboscope`` (Weiboscope open data CSV), ``wechatscope`` (the WeChatscope deletion
log), ``jsonl`` (raw platform responses, one per line, run through the platform's adapter) and
``scenario`` (a simulator scenario, imported as truth). docs/formats.md ("Imports") documents
each format, the status mapping and what re-importing does.

Imported records become evidence like observed ones: each record's raw bytes are a blob, and
what it says becomes leaves of kind ``import`` in the study's log, folded into verdicts by the
collector's state machine, so ``memoryhole verify`` re-derives them; imported posts are marked
(``posts.imported_from``, the ``imports`` table says how exact the dataset's times are) and
flow into exports and analysis like observed ones.

Pipeline: ``source`` (bytes → encoding, CSV records with their raw bytes) → a parser per kind
(records → :class:`~memoryhole.imports.records.Record`: posts and timed events, or a
:class:`~memoryhole.imports.records.BadRow`) → ``writer`` (batches → one transaction each) →
``run`` (lock, import row, batches, checkpoint).
"""

from __future__ import annotations

from memoryhole.imports.run import KINDS, ImportSummary, run_import

__all__ = ["KINDS", "ImportSummary", "run_import"]
