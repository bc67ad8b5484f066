"""users.password_changed_at: tokens issued before a password change are refused.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from example.models import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_changed_at", UTCDateTime(), nullable=True))
    # Existing accounts: their tokens stay valid until their next password change.
    op.execute("UPDATE users SET password_changed_at = created_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("password_changed_at", existing_type=UTCDateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
