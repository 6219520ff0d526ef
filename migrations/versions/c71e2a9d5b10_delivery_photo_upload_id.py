"""delivery photo upload id: a photo retried on a weak signal is stored once

Revision ID: c71e2a9d5b10
Revises: b408fd627daa
Create Date: 2026-12-02 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
import flask_appbuilder.models.mixins  # noqa: F401  (FAB-NOTES section 5)


# revision identifiers, used by Alembic.
revision = 'c71e2a9d5b10'
down_revision = 'b408fd627daa'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('delivery_photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upload_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_delivery_photo_upload', ['order_id', 'upload_id'])


def downgrade():
    with op.batch_alter_table('delivery_photo', schema=None) as batch_op:
        batch_op.drop_constraint('uq_delivery_photo_upload', type_='unique')
        batch_op.drop_column('upload_id')
