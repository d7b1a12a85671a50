"""More attacks on takedown (issue 21, items 3 and 6), beside ``attacks_takedown.py``: what a
takedown leaves in bundles and after the collection goes on, content of the author's in other
people's posts, and redactions forged with a leaf anyone can compute.

``attacks(tmp)`` returns ``(category, attack, held)`` rows for ``benchmarks/attacks.py``. The
byte search behind the leak rows is ``benchmarks/takedown_scan.py``: every blob, every export
format (Parquet read, not its compressed bytes), the report, status and evidence bundles, for
the author's raw id, pseudonym and texts (UTF-8, JSON-escaped, percent-encoded).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, RowMapping, func, select

from memoryhole.evidence.leaf import author_commitment
from memoryhole.evidence.rows import observation_row
from memoryhole.evidence.verify import verify_study
from memoryhole.scenario import write_scenario
from memoryhole.sim.process import SimulatorProcess
from memoryhole.sim.replay import replay
from memoryhole.store.schema import authors, observations, posts, redactions, verdicts
from memoryhole.study import Study

try:  # run by benchmarks/attacks.py (this folder on the path), or imported by the tests
    from takedown_scan import COMMON, T0, VICTIM, cli, leaks, scenario
except ImportError:
    from benchmarks.takedown_scan import COMMON, T0, VICTIM, cli, leaks, scenario

Row = tuple[str, str, bool]
FAMILIES = ("blobs", "export verdicts", "export csv", "export parquet", "export datasette",
            "export warc", "report", "status")  # fmt: skip


def _victim(study: Study, platform: str) -> ColumnElement[bool]:
    return authors.c.pseudonym == study.pseudonym(platform, VICTIM)


def _removed_posts(study: Study, platform: str, *, victim: bool) -> list[str]:
    """Removed posts (censored, or on RSS gone) of the victim, or of others."""
    pseudonym = study.pseudonym(platform, VICTIM)
    with study.engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.post_id, authors.c.pseudonym)
            .join(authors, authors.c.id == posts.c.author_pk)
            .join(verdicts, verdicts.c.post_pk == posts.c.id)
            .where(verdicts.c.status.in_(("censored", "unknown")))
            .order_by(posts.c.id)
        ).all()
    return [str(post_id) for post_id, who in rows if (who == pseudonym) == victim]


def _victim_posts(study: Study, platform: str) -> tuple[int, int]:
    """How many posts of the victim the store has, and its last observation id."""
    with study.engine.connect() as connection:
        count = connection.execute(
            select(func.count())
            .select_from(posts)
            .join(authors, authors.c.id == posts.c.author_pk)
            .where(_victim(study, platform))
        ).scalar()
        last = connection.execute(select(func.max(observations.c.id))).scalar()
    return int(count or 0), int(last or 0)


def _victim_observations(
    study: Study, platform: str, *, after_id: int = 0, after: float = 0.0
) -> int:
    """Observations of the victim's posts (redactions aside) after an id or a wall time."""
    with study.engine.connect() as connection:
        count = connection.execute(
            select(func.count())
            .select_from(observations)
            .join(posts, posts.c.id == observations.c.post_pk)
            .join(authors, authors.c.id == posts.c.author_pk)
            .where(_victim(study, platform))
            .where(observations.c.kind != "redaction")
            .where(observations.c.id > after_id, observations.c.received_at > after)
        ).scalar()
    return int(count or 0)


def _takedown_attacks(tmp: Path, platform: str) -> list[Row]:
    """A takedown with no collector running, then the collection resumed."""
    path = tmp / f"{platform}-study"
    study = Study.init(path)
    posts_ = scenario(posts=144)
    replay(study, posts_, until=T0 + 5400.0, platform=platform)
    own = _removed_posts(study, platform, victim=True)
    others = _removed_posts(study, platform, victim=False)
    study.close()
    cli("takedown", "--author", VICTIM, "--platform", platform, "--study", str(path))
    found = leaks(path, platform, tmp / f"{platform}-out", others[:3])
    own_bundle = leaks(path, platform, tmp / f"{platform}-own", own[:1])["bundles"]
    rows: list[Row] = [
        ("takedown leaks", f"{platform}: {family} hold nothing of the author", not found[family])
        for family in (*FAMILIES, "bundles")
    ]
    own_post = f"{platform}: a bundle of their own post holds nothing of them"
    rows.append(("takedown leaks", own_post, not own_bundle))
    study = Study.open(path)
    verified = verify_study(study).success
    rows.append(("takedown evidence", f"{platform}: verify --study passes after it", verified))
    before, last = _victim_posts(study, platform)
    study.close()
    shutil.copytree(path, tmp / f"{platform}-taken")  # what the forgers start from
    study = Study.open(path)
    replay(study, posts_, until=T0 + 4 * 3600.0, platform=platform)  # resumed
    after, _ = _victim_posts(study, platform)
    checked = _victim_observations(study, platform, after_id=last)
    report = verify_study(study)
    study.close()
    again = leaks(path, platform, tmp / f"{platform}-again")["blobs"]
    resumed = f"{platform}: a resumed collection"
    rows.append(("takedown deny list", f"{resumed} stores no new post of theirs", after == before))
    rows.append(("takedown deny list", f"{resumed} checks none of their old posts", checked == 0))
    rows.append(("takedown deny list", f"{resumed} keeps no body of theirs", not again))
    rows.append(("takedown deny list", f"{resumed} still verifies", report.success))
    return rows


def _quote_attacks(tmp: Path) -> list[Row]:
    """Content of the author's in other authors' posts: a quote; a sock puppet's copied text."""
    path = tmp / "quotes"
    study = Study.init(path)
    posts_ = scenario(quote=True, common=True)
    replay(study, posts_, until=T0 + 3 * 3600.0)
    copied = {p.post_id for p in posts_ if p.text == COMMON and p.author_id != VICTIM}
    with study.engine.connect() as connection:
        bodies = set(
            connection.execute(
                select(observations.c.body_sha256)
                .join(posts, posts.c.id == observations.c.post_pk)
                .where(observations.c.kind == "check", posts.c.post_id.in_(copied))
            ).scalars()
        )
    study.close()
    cli("takedown", "--author", VICTIM, "--study", str(path))
    found = leaks(path, "weibo", tmp / "quotes-out")
    exported = [leak for family in FAMILIES[1:] for leak in found[family]]
    study = Study.open(path)
    kept = {sha for sha in bodies if study.blobs.exists(sha)}
    study.close()
    quoting = "another author's post quoting the author's id and text: no export holds either"
    puppet = "a sock puppet taken down erases no evidence of the posts whose text it copied"
    return [("takedown quotes", quoting, not exported), ("takedown quotes", puppet, kept == bodies)]


def _forged_redactions(template: Path, tmp: Path) -> list[Row]:
    """A censored answer's blob deleted, explained away by ever more careful forgeries (of a
    study that verifies: a takedown's own redactions logged)."""
    study = Study.open(template)
    untouched = verify_study(study).success
    study.close()
    rows: list[Row] = [("forged redactions", "(control) the study taken down verifies", untouched)]
    attacks = (
        "a forged takedown row",
        "a forged row naming a real logged redaction",
        "a forged row and a well-formed redaction leaf after the last checkpoint",
    )
    for number, attack in enumerate(attacks):
        copy = tmp / f"forged-{number}"
        shutil.copytree(template, copy)
        study = Study.open(copy)
        with study.engine.begin() as connection:
            sha = censored_body(connection)
            values: dict[str, object] = {
                "body_sha256": sha,
                "author_pseudonym": "a_x",
                "reason": "forged",
                "redacted_at": 0.0,
            }
            real = connection.execute(
                select(observations).where(observations.c.kind == "redaction").limit(1)
            ).mappings().first()  # fmt: skip
            if number == 1 and real is not None and "observation_id" in redactions.c:
                values["observation_id"] = real["id"]
            if number == 2:
                leaf = append_redaction_leaf(connection, sha, real)
                if "observation_id" in redactions.c:
                    values["observation_id"] = leaf
            connection.execute(redactions.insert().values(**values))
        study.blobs.delete(sha)
        held = not verify_study(study).success
        rows.append(("forged redactions", f"a censored answer deleted, with {attack}", held))
        study.close()
    return rows


def censored_body(connection: Connection) -> str:
    taken = set(connection.execute(select(redactions.c.body_sha256)).scalars())
    query = select(observations.c.body_sha256).where(
        observations.c.kind == "check", observations.c.status == "censored"
    )
    return next(str(s) for s in connection.execute(query).scalars() if s not in taken)


def append_redaction_leaf(connection: Connection, sha: str, real: RowMapping | None) -> int:
    """A redaction leaf anyone can compute (no key needed), after every signed checkpoint."""
    newest = select(observations).order_by(observations.c.id.desc()).limit(1)
    template = dict(real or connection.execute(newest).mappings().one())
    last = int(connection.execute(select(func.max(observations.c.id))).scalar() or 0)
    facts = json.loads(template["facts"]) if template.get("facts") else {}
    facts.update(redacts=sha, author=author_commitment("a_x"))
    row = observation_row(
        last + 1, kind="redaction", status=str(template["status"]), platform="weibo",
        post_pk=None, post_id=None, target_pk=template["target_pk"], seq=None,
        sent_at=float(template["sent_at"]) + 1, observed_at=float(template["observed_at"]) + 1,
        received_at=float(template["received_at"]) + 1, elapsed=0.0, method="POST",
        url=f"memoryhole:takedown/{last + 1}", http_status=None, headers=(),
        headers_json="[]", body_sha256=str(template["body_sha256"]),
        body_size=int(template["body_size"]), content_hash=None, code=None,
        detail="taken down: forged", error=None, facts=facts,
    )  # fmt: skip
    connection.execute(observations.insert().values(**row))
    return last + 1


def collect_and_take_down(tmp: Path, seconds: int = 10) -> tuple[Path, float]:
    """``memoryhole takedown`` while ``memoryhole run`` collects from ``sim serve``: the
    study, and the wall time the takedown command returned."""
    write_scenario(scenario(posts=600), tmp / "live.jsonl")
    path = tmp / "live"
    cli("init", str(path))
    with SimulatorProcess(tmp / "live.jsonl", speed=600.0) as sim:
        cli("watch", "weibo:all", "--base-url", sim.base_url, "--study", str(path))
        command = [sys.executable, "-m", "memoryhole", "run", "--for", f"{seconds}s", "--quiet"]
        run = subprocess.Popen([*command, "--study", str(path)], stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + seconds * 0.8
            while _stored(path) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            cli("takedown", "--author", VICTIM, "--study", str(path))
            taken = time.time()
            run.wait(timeout=60)
        finally:
            if run.poll() is None:
                run.terminate()
                run.wait()
    return path, taken


def _while_collecting(tmp: Path) -> list[Row]:
    path, taken = collect_and_take_down(tmp)
    study = Study.open(path)
    late = _victim_observations(study, "weibo", after=taken + 3.0)
    verified = verify_study(study).success
    study.close()
    found = leaks(path, "weibo", tmp / "live-out")["blobs"]
    category = "takedown while collecting"
    return [
        (category, "no blob holds the author after the collector ran on", not found),
        (category, "nothing of theirs fetched 3 s after the takedown", late == 0),
        (category, "verify --study passes (the collector logged them)", verified),
    ]


def _stored(path: Path) -> int:
    """The victim's posts the running collector has stored (read-only)."""
    try:
        with sqlite3.connect(f"file:{path / 'store.sqlite'}?mode=ro", uri=True) as connection:
            (count,) = connection.execute(
                "SELECT count(*) FROM posts JOIN authors ON authors.id = posts.author_pk "
                "WHERE authors.raw_id = ?",
                (VICTIM,),
            ).fetchone()
        return int(count)
    except sqlite3.Error:
        return 0


def attacks(tmp: Path) -> list[Row]:
    rows = _takedown_attacks(tmp, "weibo")
    rows += _forged_redactions(tmp / "weibo-taken", tmp)
    rows += _takedown_attacks(tmp, "rss")
    rows += _quote_attacks(tmp)
    rows += _while_collecting(tmp)
    return rows
