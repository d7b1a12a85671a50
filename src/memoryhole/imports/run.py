"""``memoryhole import KIND FILE``: stream a past dataset into a study, batch by batch.

The study is locked for the whole import (``Study.writer_lock``: no collector and
no other import may write meanwhile). Each import gets a row in ``imports`` (what file, its
sha256, the dataset's timing resolution, progress counts) and an inactive target
``PLATFORM:import/N`` that its leaves and posts hang from, as a collector's hang from the
target that found them. Every batch (default 5,000 records) is one transaction; a signed
checkpoint covers what was committed at the end, also when a malformed row stops the import.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, func, insert, select, update

from memoryhole.errors import MemoryholeError, StudyLockedError
from memoryhole.evidence.heads import extension_line
from memoryhole.evidence.log import checkpoint_row, load_log, sign_checkpoint, stored_heads
from memoryhole.evidence.merkle import MerkleLog
from memoryhole.imports.records import BadRow, Counts, ImportFileError, Record
from memoryhole.imports.rejects import RejectWriter
from memoryhole.imports.source import SourceFile, inspect, parse_offset
from memoryhole.imports.writer import ImportWriter
from memoryhole.store.schema import checkpoints, imports, posts, targets, verdicts
from memoryhole.study import Study

KINDS = ("weiboscope", "wechatscope", "jsonl", "scenario")
BATCH_SIZE = 5000


class Parser(Protocol):
    kind: str
    platform: str
    timing: str
    position: int

    def records(self, source: SourceFile) -> Iterator[Record | BadRow]: ...


@dataclass
class ImportSummary:
    kind: str
    path: Path
    platform: str
    import_id: int
    counts: Counts
    seconds: float
    source: SourceFile
    rejected_path: Path | None = None
    already: bool = False  # the same file was imported before: nothing done
    resumed: bool = False  # an unfinished import of the same file was continued
    statuses: dict[str, int] = field(default_factory=dict)  # verdicts of its posts

    @property
    def rows_per_second(self) -> float:
        total = self.counts.rows + self.counts.rejected
        return total / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Progress:
    done_bytes: int
    total_bytes: int
    rows: int
    rejected: int


def make_parser(
    kind: str, *, platform: str | None, utc_offset: str | None, study: Study, now: float
) -> Parser:
    zone: tzinfo | None = None
    if utc_offset is not None:
        try:
            zone = parse_offset(utc_offset)
        except ValueError as exc:
            raise MemoryholeError(str(exc)) from None
    if kind == "weiboscope":
        from memoryhole.imports.weiboscope import WeiboscopeParser

        _fixed_platform(kind, platform, "weibo")
        return WeiboscopeParser(zone, now)
    if kind == "wechatscope":
        from memoryhole.imports.wechatscope import WechatscopeParser

        _fixed_platform(kind, platform, "wechat")
        return WechatscopeParser(zone, now)
    if kind == "scenario":
        from memoryhole.imports.scenario import ScenarioParser

        return ScenarioParser(platform or "weibo", now)
    if kind == "jsonl":
        from memoryhole.imports.jsonl import JsonlParser
        from memoryhole.platforms import registry

        name = platform or "weibo"
        adapter = registry.get(name, study.base_url(name), study_dir=study.path)
        return JsonlParser(adapter, name, zone, now)
    raise MemoryholeError(f"unknown import kind {kind!r}; use one of {', '.join(KINDS)}")


def _fixed_platform(kind: str, given: str | None, platform: str) -> None:
    if given is not None and given != platform:
        raise MemoryholeError(f"{kind} imports are {platform} posts; leave --platform out")


def run_import(
    study: Study,
    kind: str,
    path: Path,
    *,
    skip_bad: bool = False,
    rejected_path: Path | None = None,
    platform: str | None = None,
    utc_offset: str | None = None,
    encoding: str | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[Progress], None] | None = None,
) -> ImportSummary:
    """Import ``path`` (a ``kind`` file) into ``study``; see the module docstring.
    ``encoding`` (utf-8 or gb18030) overrides the detection (``imports.source``)."""

    started = time.time()
    parser = make_parser(kind, platform=platform, utc_offset=utc_offset, study=study, now=started)
    source = inspect(path, encoding)
    counts = Counts()
    try:
        with study.writer_lock():
            return _locked(
                study, parser, source, counts, skip_bad, rejected_path, batch_size, on_progress,
                started,
            )  # fmt: skip
    except StudyLockedError:
        raise StudyLockedError(
            f"{study.path} is busy: a collector or another import is writing to it; "
            "an import needs the study to itself: stop it first (Ctrl-C) or wait"
        ) from None


def _locked(
    study: Study,
    parser: Parser,
    source: SourceFile,
    counts: Counts,
    skip_bad: bool,
    rejected_path: Path | None,
    batch_size: int,
    on_progress: Callable[[Progress], None] | None,
    started: float,
) -> ImportSummary:
    engine = study.engine
    previous = _previous(engine, parser.kind, source.sha256)
    summary = ImportSummary(
        parser.kind, source.path, parser.platform, 0, counts, 0.0, source,
    )  # fmt: skip
    if previous is not None and previous[2] is not None:
        summary.import_id, summary.already = previous[0], True
        summary.statuses = _statuses(engine, previous[0])
        return summary
    log = load_log(engine)
    checkpointed = log.size
    if previous is not None:
        import_pk, target_pk = previous[0], previous[1]
        summary.resumed = True
    else:
        import_pk, target_pk = _begin(engine, parser, source, started)
    summary.import_id = import_pk
    writer = ImportWriter(
        study,
        platform=parser.platform,
        import_pk=import_pk,
        target_pk=target_pk,
        log=log,
        received_at=started,
        counts=counts,
    )
    rejects = None
    if skip_bad:
        summary.rejected_path = rejected_path or source.path.with_name(
            source.path.name + ".rejected.csv"
        )
        rejects = RejectWriter(summary.rejected_path, source.encoding)
    batch: list[Record] = []
    committed = 0
    failed = False
    try:
        for item in parser.records(source):
            if isinstance(item, BadRow):
                counts.rejected += 1
                if rejects is None:
                    raise ImportFileError(
                        str(source.path),
                        item.line,
                        f"{item.problem()}. Nothing of this batch was written ({committed:,} "
                        "rows before it are in the study; re-running skips them): fix the row, "
                        "or pass --skip-bad to set malformed rows aside",
                    )
                rejects.write(item)
                continue
            counts.rows += 1
            batch.append(item)
            if len(batch) >= batch_size:
                writer.write(batch, parser.position)
                committed += len(batch)
                batch = []
                if on_progress is not None:
                    on_progress(
                        Progress(parser.position, source.size, counts.rows, counts.rejected)
                    )
        writer.write(batch, parser.position)
        committed += len(batch)
        with engine.begin() as conn:
            conn.execute(
                update(imports)
                .where(imports.c.id == import_pk)
                .values(**writer.progress(), position=source.size, finished_at=time.time())
            )
        if on_progress is not None:
            on_progress(Progress(source.size, source.size, counts.rows, counts.rejected))
    except BaseException:
        failed = True
        raise
    finally:
        writer.close()
        if rejects is not None:
            rejects.close()
        _sign(study, load_log(engine) if failed else log, checkpointed)
    summary.seconds = time.time() - started
    summary.statuses = _statuses(engine, import_pk)
    return summary


def _previous(engine: Engine, kind: str, sha256: str) -> tuple[int, int, float | None] | None:
    """The latest import of this very file (same kind and bytes), if any."""
    query = (
        select(imports.c.id, imports.c.target_pk, imports.c.finished_at)
        .where(imports.c.kind == kind, imports.c.source_sha256 == sha256)
        .order_by(imports.c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else (int(row[0]), int(row[1]), row[2])


def _begin(engine: Engine, parser: Parser, source: SourceFile, now: float) -> tuple[int, int]:
    """A new import row and its inactive target, in one transaction."""
    with engine.begin() as conn:
        pending = f"{parser.platform}:import/pending-{source.sha256}-{now}"
        target_result = conn.execute(
            insert(targets).values(
                platform=parser.platform, spec=pending, kind="import", key="", added_at=now,
                cursor=None, next_poll_at=0.0, active=False,
            )
        )  # fmt: skip
        target_pk = _primary_key(target_result.inserted_primary_key)
        import_result = conn.execute(
            insert(imports).values(
                kind=parser.kind, platform=parser.platform, target_pk=target_pk,
                source=source.name[:255], source_sha256=source.sha256, source_size=source.size,
                encoding=source.encoding, timing=parser.timing, started_at=now,
                finished_at=None, position=0, rows=0, new_posts=0, updated_posts=0, skipped=0,
                rejected=0,
            )
        )  # fmt: skip
        import_pk = _primary_key(import_result.inserted_primary_key)
        conn.execute(
            update(targets)
            .where(targets.c.id == target_pk)
            .values(spec=f"{parser.platform}:import/{import_pk}", key=str(import_pk))
        )
    return import_pk, target_pk


def _primary_key(key: Any) -> int:
    if not key:
        raise MemoryholeError("the database did not return the new row's id")
    return int(key[0])


def _sign(study: Study, log: MerkleLog, checkpointed: int) -> None:
    """Sign a checkpoint over the log if this import grew it (as a collector run ends)."""
    if log.size <= checkpointed:
        return
    heads = (extension_line(stored_heads(study.engine)),)
    size, root, note = sign_checkpoint(study.signing_key(), study.log_origin, log, heads)
    with study.engine.begin() as conn:
        conn.execute(checkpoints.insert(), checkpoint_row(size, root, note))


def _statuses(engine: Engine, import_pk: int) -> dict[str, int]:
    query = (
        select(verdicts.c.status, func.count())
        .join(posts, posts.c.id == verdicts.c.post_pk)
        .where(posts.c.imported_from == import_pk)
        .group_by(verdicts.c.status)
    )
    with engine.connect() as conn:
        return {str(status): int(count) for status, count in conn.execute(query)}
