"""The store's schema (SQLAlchemy Core). SQLite by default; nothing here is SQLite-only.

Times are epoch seconds (float) on the platform's clock unless the column says ``received_at``
(the local wall clock). ``observations`` is append-only: its ``id`` is the observation's index
in the study's log and is never reused. Changes to this file need an Alembic migration in
``store/migrations/versions`` (a test compares the two).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

SCHEMA_VERSION = 8

metadata = MetaData()

targets = Table(
    "targets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("spec", Text, nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("key", Text, nullable=False),
    Column("added_at", Float, nullable=False),
    Column("cursor", Text),
    Column("next_poll_at", Float, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    # Listing items of this target that could not be read (never dropped silently).
    Column("unreadable", Integer, nullable=False, default=0, server_default=text("0")),
    Column("last_unreadable", Text),
)

authors = Table(
    "authors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("raw_id", Text, nullable=False),  # a feed's author may be a long string
    Column("pseudonym", String(64), nullable=False),
    UniqueConstraint("platform", "raw_id", name="uq_authors_platform_raw_id"),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("post_id", Text, nullable=False),  # a feed item's guid or URL can be long
    Column("author_pk", Integer, ForeignKey("authors.id"), nullable=False),
    Column("target_pk", Integer, ForeignKey("targets.id")),
    Column("published_at", Float, nullable=False),
    # Set when a listing gave the publication time only to a day, an hour or a minute: it
    # lies in [published_at, published_until]. Null: published_at is exact.
    Column("published_until", Float),
    Column("first_seen_at", Float, nullable=False),
    Column("text", Text, nullable=False),
    Column("discovered_by", Integer),  # observations.id of the listing that showed it
    Column("imported_from", Integer, ForeignKey("imports.id")),  # null unless imported
    UniqueConstraint("platform", "post_id", name="uq_posts_platform_post_id"),
)

observations = Table(
    "observations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    # "check" | "discover" | "media" | "import" | "text" (a long post's whole text, which
    # completes the check before it) | "post" (a new post's facts as first listed)
    Column("kind", String(16), nullable=False),
    Column("post_pk", Integer, ForeignKey("posts.id")),
    Column("target_pk", Integer, ForeignKey("targets.id")),
    Column("seq", Integer),  # n-th check of this post (1-based); null for listings
    Column("status", String(32), nullable=False),
    Column("sent_at", Float, nullable=False),
    Column("observed_at", Float, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("elapsed", Float, nullable=False),
    Column("method", String(8), nullable=False),
    Column("url", Text, nullable=False),
    Column("http_status", Integer),
    Column("response_headers", Text, nullable=False),  # JSON list of [name, value]
    Column("body_sha256", String(64), nullable=False),
    Column("body_size", Integer, nullable=False),
    Column("content_hash", String(64)),
    Column("code", String(64)),
    Column("detail", Text, nullable=False),
    Column("error", Text),
    # RFC 9162 leaf hash of the observation's canonical record (evidence/leaf.py); the log's
    # leaf index is id - 1. Written in the same transaction as the row.
    Column("leaf_hash", LargeBinary(32)),
    # What the leaf states about its post (JSON: author commitment, publication interval, text
    # hash): leaf format 2 (evidence/leaf.py). Null for leaves that state nothing of the kind.
    Column("facts", Text),
    UniqueConstraint("post_pk", "seq", name="uq_observations_post_seq"),
)
Index("ix_observations_post_pk", observations.c.post_pk)

verdicts = Table(
    "verdicts",
    metadata,
    Column("post_pk", Integer, ForeignKey("posts.id"), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("first_seen_at", Float, nullable=False),
    Column("last_seen_alive_at", Float),
    Column("first_seen_removed_at", Float),
    Column("signal", Text, nullable=False),
    Column("edited", Boolean, nullable=False),
    Column("content_hash", String(64)),
    Column("checks", Integer, nullable=False),  # observations of this post so far
    Column("failures", Integer, nullable=False),  # consecutive transient failures
    Column("history", Text, nullable=False),  # JSON list of [at, status]
    Column("updated_at", Float, nullable=False),
    # The post's chain: a digest of its observations' leaf indices (hex) and their number,
    # committed by every checkpoint (evidence/heads.py).
    Column("chain", String(64)),
    Column("chain_length", Integer, nullable=False, default=0, server_default=text("0")),
)
Index("ix_verdicts_status", verdicts.c.status)

schedule = Table(
    "schedule",
    metadata,
    Column("post_pk", Integer, ForeignKey("posts.id"), primary_key=True),
    Column("next_check_at", Float, nullable=False),
)
Index("ix_schedule_next_check_at", schedule.c.next_check_at)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("size", Integer, nullable=False),  # leaves covered: observations 1..size
    Column("root_hash", String(64), nullable=False),  # hex
    Column("note", Text, nullable=False),  # the C2SP signed note, verbatim
    Column("created_at", Float, nullable=False),  # wall clock
)

redactions = Table(
    "redactions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_sha256", String(64), nullable=False),
    Column("author_pseudonym", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("redacted_at", Float, nullable=False),  # wall clock
    # The observation (kind "redaction") that logs it; null until the writer has logged it.
    Column("observation_id", Integer),
)
Index("ix_redactions_body_sha256", redactions.c.body_sha256)

# Analysis cache (memoryhole.analysis.cache): each post's set of terms, computed once per
# tokenizer and kept while the post's text is unchanged. Derived data: safe to delete.
post_terms = Table(
    "post_terms",
    metadata,
    Column("post_pk", Integer, ForeignKey("posts.id"), primary_key=True),
    Column("tokenizer", String(64), primary_key=True),  # analysis.cache.tokenizer_key
    Column("text_sha256", String(64), nullable=False),  # of the text the terms came from
    Column("terms", Text, nullable=False),  # the terms, space-separated, sorted
)

# The same terms as ids of term_vocab (uint32 little-endian, ascending): what the counts read
# at scale, in a table of their own so a scan reads ~530 bytes a post, not the text as well.
# A post_terms row without one (written before migration 0006) gets it on next use.
post_term_ids = Table(
    "post_term_ids",
    metadata,
    Column("post_pk", Integer, ForeignKey("posts.id"), primary_key=True),
    Column("tokenizer", String(64), primary_key=True),
    Column("term_ids", LargeBinary, nullable=False),
)

# The vocabulary of each tokenizer's cached terms: term_id is dense from 0 per tokenizer.
term_vocab = Table(
    "term_vocab",
    metadata,
    Column("tokenizer", String(64), primary_key=True),
    Column("term_id", Integer, primary_key=True, autoincrement=False),
    Column("term", Text, nullable=False),
    UniqueConstraint("tokenizer", "term", name="uq_term_vocab_term"),
)

# Imports of past datasets (memoryhole.imports): one row per imported file. Its observations
# (kind "import") and posts hang from an inactive target "PLATFORM:import/ID"; its posts also
# say so in posts.imported_from. Their timing resolution is the dataset's (``timing``).
imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # weiboscope | wechatscope | jsonl | scenario
    Column("platform", String(32), nullable=False),
    Column("target_pk", Integer, ForeignKey("targets.id"), nullable=False),
    Column("source", String(255), nullable=False),  # the file's name
    Column("source_sha256", String(64), nullable=False),
    Column("source_size", BigInteger, nullable=False),
    Column("encoding", String(16), nullable=False),
    Column("timing", Text, nullable=False),  # the dataset's timing resolution, in words
    Column("started_at", Float, nullable=False),  # wall clock
    Column("finished_at", Float),  # null while unfinished (a re-run resumes it)
    Column("position", BigInteger, nullable=False),  # bytes of the file committed
    Column("rows", Integer, nullable=False),
    Column("new_posts", Integer, nullable=False),
    Column("updated_posts", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
)
Index("ix_imports_source_sha256", imports.c.source_sha256)

# The collector's working state and its schedule's (collect/durable.py, schedule/snapshot.py):
# what a resumed run needs to continue exactly the plan of the last committed batch, written in
# the same transaction as that batch. Rows: "collector/meta", "policy/meta", and chunks of named
# arrays ("policy/posts.floats/0"). Derived: deleting it only makes the next run start its
# schedule afresh (from the prior).
scheduler_state = Table(
    "scheduler_state",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

# Several collectors on one PostgreSQL study (collect/claims.py, collect/budgets.py,
# collect/sequencer.py; docs/scheduler.md). SQLite's single collector never uses them.
# A worker's lease on a partition of the work: a target, its polls and the checks of the posts
# it found. Times are the database's wall clock (epoch seconds).
collect_claims = Table(
    "collect_claims",
    metadata,
    Column("target_pk", Integer, ForeignKey("targets.id"), primary_key=True),
    Column("worker", String(128)),  # null: free
    Column("lease_until", Float, nullable=False),
)

# The workers alive (a heartbeat each term): how many share the partitions.
collect_workers = Table(
    "collect_workers",
    metadata,
    Column("worker", String(128), primary_key=True),
    Column("alive_until", Float, nullable=False),  # its heartbeat plus its lease
)

# One token bucket per budget (a platform, or platform/account): every worker's requests
# are granted from it, so their sum never exceeds it. ``updated``: platform clock.
collect_budgets = Table(
    "collect_budgets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated", Float, nullable=False),
)

# Blocks of post and author ids handed to workers (each takes a block, then counts inside it).
id_blocks = Table(
    "id_blocks",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("next_id", BigInteger, nullable=False),
)
