"""The database table for rate-limit counters when there is no Redis (settings: the "ratelimit"
cache, config.cache_backends.AtomicDatabaseCache). Created here so `migrate` is all a fresh
database needs; the same table `createcachetable` would make."""

from django.db import migrations

TABLE = "declinedesk_ratelimit"


def create_table(apps, schema_editor):
    from django.core.management.commands.createcachetable import Command

    command = Command()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("diagnosis", "0011_api_token_expiry")]

    operations = [migrations.RunPython(create_table, drop_table)]
