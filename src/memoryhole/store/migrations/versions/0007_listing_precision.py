"""Real listings: a publication time known only to a day or an hour, and unreadable items.

``posts.published_until``: the end of the interval a listing gave for the publication time
(Weibo's ``06-14``, ``15小时前``); null when ``published_at`` is exact. ``targets.unreadable``:
how many listing items of the target could not be read so far, ``targets.last_unreadable``
what the latest of them was (never silent: ``status`` shows both).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("published_until", sa.Float))
    with op.batch_alter_table("targets") as batch:
        batch.add_column(
            sa.Column("unreadable", sa.Integer, nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("last_unreadable", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.drop_column("last_unreadable")
        batch.drop_column("unreadable")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("published_until")
