"""Evidence: each post's chain of observations, and the facts stated about posts in the log.

``verdicts.chain`` / ``chain_length``: the running digest of the post's observations' leaf
indices and how many there are (evidence/heads.py): every checkpoint commits to them, so a
bundle proves it holds all of its post's observations. ``observations.facts``: what a leaf
states about its post (author commitment, publication interval, text hash; JSON), so every
fact an export states about a post is checked against the log (leaf format 2). Ids and
specs become ``Text``: real feed items' guids and URLs, and feed authors, pass 128 characters.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.alter_column("spec", type_=sa.Text, existing_type=sa.String(200))
        batch.alter_column("key", type_=sa.Text, existing_type=sa.String(128))
        batch.alter_column("cursor", type_=sa.Text, existing_type=sa.String(200))
    with op.batch_alter_table("authors") as batch:
        batch.alter_column("raw_id", type_=sa.Text, existing_type=sa.String(128))
    with op.batch_alter_table("posts") as batch:
        batch.alter_column("post_id", type_=sa.Text, existing_type=sa.String(128))
    with op.batch_alter_table("observations") as batch:
        batch.add_column(sa.Column("facts", sa.Text))
    with op.batch_alter_table("verdicts") as batch:
        batch.add_column(sa.Column("chain", sa.String(64)))
        batch.add_column(
            sa.Column("chain_length", sa.Integer, nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("verdicts") as batch:
        batch.drop_column("chain_length")
        batch.drop_column("chain")
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("facts")
    with op.batch_alter_table("posts") as batch:
        batch.alter_column("post_id", type_=sa.String(128), existing_type=sa.Text)
    with op.batch_alter_table("authors") as batch:
        batch.alter_column("raw_id", type_=sa.String(128), existing_type=sa.Text)
    with op.batch_alter_table("targets") as batch:
        batch.alter_column("cursor", type_=sa.String(200), existing_type=sa.Text)
        batch.alter_column("key", type_=sa.String(128), existing_type=sa.Text)
        batch.alter_column("spec", type_=sa.String(200), existing_type=sa.Text)
