"""Alembic operations that create the messaging tables; each service's first revision calls them."""

from __future__ import annotations

from alembic import op

from vetgate_messaging.tables import NOTIFY_CHANNEL_PREFIX, inbox, outbox, outbox_position


def create_messaging_tables() -> None:
    bind = op.get_bind()
    for table in (outbox, outbox_position, inbox):
        table.create(bind)
    # NOTIFY fires at commit, once per statement: the relay wakes as soon as events are visible.
    op.execute(f"""
        CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{NOTIFY_CHANNEL_PREFIX}' || TG_TABLE_SCHEMA, '');
            RETURN NULL;
        END $$;
    """)
    op.execute("""
        CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
    """)


def drop_messaging_tables() -> None:
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
    bind = op.get_bind()
    for table in (inbox, outbox_position, outbox):
        table.drop(bind)
