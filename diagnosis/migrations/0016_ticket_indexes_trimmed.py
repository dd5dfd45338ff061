from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


def drop_number_pattern_index(apps, schema_editor):
    """PostgreSQL: Django adds a second index on a unique CharField for LIKE queries; no query
    of the application matches ticket numbers by pattern (only by equality: the unique index)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "diagnosis_ticket_number_806ed2b3_like"')


def create_number_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX IF NOT EXISTS "diagnosis_ticket_number_806ed2b3_like" '
            'ON "diagnosis_ticket" ("number" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    """Fewer indexes on the ticket table (every insert updates each one): single-column FK
    indexes that a composite index starts with, composites no query needs (bench/indexes.py
    shows which query uses each remaining one), the number's LIKE index; one small partial index
    for the auto-close job."""

    dependencies = [
        ('diagnosis', '0015_outgoing_mail_and_digest'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_category_created',
        ),
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_assignee_status',
        ),
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_tid_created',
        ),
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_acq_created',
        ),
        migrations.AlterField(
            model_name='ticket',
            name='acquirer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='tickets', to='diagnosis.bank', verbose_name='收单行'),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='assignee',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='tickets_assigned', to=settings.AUTH_USER_MODEL, verbose_name='处理人'),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='category',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='tickets', to='knowledge.category', verbose_name='分类'),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='merchant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='tickets', to='diagnosis.merchant', verbose_name='商户'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('status', 'resolved')), fields=['resolved_at'], name='ticket_resolved_at'),
        ),
        migrations.RunPython(drop_number_pattern_index, create_number_pattern_index),
    ]
