"""A simulator scenario (docs/formats.md, ``memoryhole.scenario``) imported as truth.

Each post becomes a post of ``--platform`` (default ``weibo``) whose verdict is what the
scenario says happened: seen at publication, its edits (visible, with the new text's hash), and
its effective removal (its own, or its author's suspension, whichever came first) dated exactly:
seen alive just before the removal time ``T`` and removed at ``T``, the tightest interval there
is. Posts a suspension hid before they were published were never visible: they are skipped, as
``sim.truth`` leaves them out. Lines are validated by the scenario format's own parser.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator

from memoryhole.errors import ScenarioError
from memoryhole.imports.records import BadRow, BadRowError, Event, NewPost, PostFacts, Record
from memoryhole.imports.source import SourceFile, check_time, iter_lines
from memoryhole.model import Status, content_hash
from memoryhole.scenario import ScenarioPost, effective_removal, parse_scenario_line

KIND = "scenario"
TIMING = "exact (simulated truth)"


class ScenarioParser:
    kind = KIND
    timing = TIMING

    def __init__(self, platform: str = "weibo", now: float | None = None) -> None:
        self.platform = platform
        self.now = time.time() if now is None else now
        self.position = 0

    def records(self, source: SourceFile) -> Iterator[Record | BadRow]:
        suspended = _suspensions(source)
        url = f"{KIND}:{source.name}#line="
        for number, raw in iter_lines(source):
            self.position += len(raw)
            try:
                text = raw.decode(source.encoding)
            except UnicodeDecodeError as exc:
                yield BadRow(
                    number, f"byte {exc.start + 1}", "UTF-8 text", "undecodable bytes", raw
                )
                continue
            if not text.strip():
                continue
            try:
                post = parse_scenario_line(text, str(source.path), number)
                self._check_times(post)
            except ScenarioError as exc:
                yield BadRow(number, None, "", "", raw, message=exc.problem)
                continue
            except RecursionError:
                yield BadRow(number, None, "a JSON object", "JSON nested too deep to read", raw)
                continue
            except OverflowError:
                yield BadRow(number, None, "epoch seconds", "a number too large for a time", raw)
                continue
            except BadRowError as exc:
                yield BadRow(number, exc.column, exc.expected, exc.found, raw)
                continue
            removal = effective_removal(post, suspended)
            facts = PostFacts(post.post_id, NewPost(post.author_id, post.published_at, post.text))
            if removal is not None and removal[0] <= post.published_at:
                yield Record(
                    number, raw, post.published_at, "IMPORT", f"{url}{number}", (facts,),
                    skipped="never visible (its author was suspended before it was published)",
                )  # fmt: skip
                continue
            end = removal[0] if removal is not None else math.inf
            events = [
                Event(Status.LIVE, at, at, "edit", "scenario: edited", content_hash(new_text))
                for at, new_text in post.edits
                if post.published_at < at < end
            ]
            if removal is not None:
                at, kind = removal
                just_before = math.nextafter(at, -math.inf)
                if just_before > post.published_at:
                    events.append(Event(Status.LIVE, just_before, just_before, "truth"))
                events.append(Event(Status(kind), at, at, kind, f"scenario truth: {kind}"))
            yield Record(
                line=number,
                raw=raw,
                seen_at=post.published_at,
                method="IMPORT",
                url=f"{url}{number}",
                posts=(PostFacts(facts.post_id, facts.new, tuple(events)),),
                detail="scenario: published",
            )

    def _check_times(self, post: ScenarioPost) -> None:
        times = [("published_at", post.published_at)]
        if post.removed_at is not None:
            times.append(("removed_at", post.removed_at))
        times += [(f"edits[{i}]", at) for i, (at, _) in enumerate(post.edits)]
        for key, at in times:
            check_time(at, f'"{key}"', repr(at), self)


def _suspensions(source: SourceFile) -> dict[str, float]:
    """When each suspended author was suspended (a first pass; malformed lines are left to the
    second pass to report)."""
    times: dict[str, float] = {}
    for _, raw in iter_lines(source):
        if b"account_suspended" not in raw:
            continue
        try:
            record = json.loads(raw)
            author, at = str(record["author_id"]), float(record["removed_at"])
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
        if record.get("removal") == "account_suspended" and math.isfinite(at):
            times[author] = min(at, times.get(author, math.inf))
    return times
