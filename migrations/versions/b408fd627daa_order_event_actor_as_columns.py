"""order event actor as columns: the name and role parsed out of actor_label

Revision ID: b408fd627daa
Revises: 19adfc7dc21a
Create Date: 2026-12-02 03:24:38.007888

"""
from alembic import op
import sqlalchemy as sa
import flask_appbuilder.models.mixins  # noqa: F401  (FAB-NOTES section 5)


# revision identifiers, used by Alembic.
revision = 'b408fd627daa'
down_revision = '19adfc7dc21a'
branch_labels = None
depends_on = None


events = sa.table("order_event", sa.column("id", sa.Integer),
                   sa.column("actor_label", sa.String), sa.column("actor_name", sa.String),
                   sa.column("actor_role", sa.String))


def split_label(label):
    """'王建国 (salesman)' -> ('王建国', 'salesman'); 'system' -> (None, 'system')."""
    if not label:
        return None, None
    if label == "system":
        return None, "system"
    if label.endswith(")") and " (" in label:
        name, role = label[:-1].rsplit(" (", 1)
        return name, role
    return label, None


def upgrade():
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('actor_role', sa.String(length=16), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(events.c.id, events.c.actor_label)
                              .where(events.c.actor_label.isnot(None))).all()
    for event_id, label in rows:
        name, role = split_label(label)
        connection.execute(events.update().where(events.c.id == event_id)
                           .values(actor_name=name, actor_role=role))
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_column('actor_label')


def downgrade():
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_label', sa.VARCHAR(length=64), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(events.c.id, events.c.actor_name,
                                        events.c.actor_role)).all()
    for event_id, name, role in rows:
        label = "system" if role == "system" else (f"{name} ({role})" if role else name)
        connection.execute(events.update().where(events.c.id == event_id)
                           .values(actor_label=(label or None) and label[:64]))
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_column('actor_role')
        batch_op.drop_column('actor_name')
