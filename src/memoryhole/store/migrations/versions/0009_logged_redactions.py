"""Redactions are logged: each takedown record names the leaf that states it.

``redactions.observation_id``: the observation (kind ``redaction``) that logs the removal of
that body in the evidence log; null while it waits for the study's writer to log it. ``verify``
accepts a missing body only when a logged redaction names it.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("redactions") as batch:
        batch.add_column(sa.Column("observation_id", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("redactions") as batch:
        batch.drop_column("observation_id")
