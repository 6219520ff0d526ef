"""WeChat identities per app (mini program, official account), subscribe-message
acceptances, and why each message took its channel

Revision ID: d5e3f0a17c42
Revises: c71e2a9d5b10
Create Date: 2026-12-02 16:00:00.000000

"""
import flask_appbuilder.models.mixins  # noqa: F401  (FAB-NOTES section 5)
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5e3f0a17c42'
down_revision = 'c71e2a9d5b10'
branch_labels = None
depends_on = None


def upgrade():
    # member.wechat_openid had no writer (there was no WeChat sign-in), and an openid
    # without its app cannot be moved to an identity: refuse rather than drop one.
    kept = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM member WHERE wechat_openid IS NOT NULL")).scalar()
    if kept:
        raise RuntimeError(f"{kept} members have member.wechat_openid set; move them to "
                           "wechat_identity (with their appid) before upgrading")
    op.create_table('wechat_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('appid', sa.String(length=32), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('unionid', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=False),
    sa.Column('unbound_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appid', 'openid', name='uq_wechat_identity_openid'),
    sa.UniqueConstraint('user_id', 'appid', name='uq_wechat_identity_user_app')
    )
    with op.batch_alter_table('wechat_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_identity_unionid'), ['unionid'], unique=False)
        batch_op.create_index(batch_op.f('ix_wechat_identity_user_id'), ['user_id'], unique=False)

    op.create_table('subscribe_acceptance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name='fk_subscribe_acceptance_message'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subscribe_acceptance', schema=None) as batch_op:
        batch_op.create_index('ix_subscribe_acceptance_unused', ['user_id', 'template_id', 'used_at'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('route', sa.String(length=32), nullable=True))

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_wechat_openid'))
        batch_op.drop_column('wechat_openid')


def downgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wechat_openid', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_member_wechat_openid'), ['wechat_openid'], unique=True)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('route')

    with op.batch_alter_table('subscribe_acceptance', schema=None) as batch_op:
        batch_op.drop_index('ix_subscribe_acceptance_unused')
    op.drop_table('subscribe_acceptance')

    with op.batch_alter_table('wechat_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_identity_user_id'))
        batch_op.drop_index(batch_op.f('ix_wechat_identity_unionid'))
    op.drop_table('wechat_identity')
