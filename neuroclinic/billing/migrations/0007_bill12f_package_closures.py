"""Package closures (issue #12): unused sessions settled by the package terms, append-only; the forfeited payment kind."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.triggers import Guard, install, remove

# A package closure settles money: append-only by trigger like payments (billing 0002),
# and sealed (audit.seals.SEALED_MODELS). The table is new, so no baseline seals.
GUARDS = [Guard("billing_packageclosure")]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0006_billing12d_em_rule_versions'),
        ('clinics', '0003_tms10c_device_max_output'),
        ('patients', '0005_bill12f_specialist_role'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='payment',
            name='kind',
            field=models.CharField(choices=[('payment', 'Payment'), ('refund', 'Refund'), ('credit_applied', 'Credit applied'), ('forfeited', 'Credit forfeited (package terms)')], max_length=16),
        ),
        migrations.CreateModel(
            name='PackageClosure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('reason', models.CharField(choices=[('completed', 'Every session used'), ('course_ended', 'The series or course ended early'), ('expired', 'The package expired'), ('cancelled', 'The patient cancelled')], max_length=16)),
                ('policy', models.CharField(choices=[('refund', 'Unused sessions refunded at their share'), ('credit', 'Unused sessions kept as credit on account'), ('forfeit', 'Unused sessions forfeited after the course ends')], max_length=8)),
                ('sessions_sold', models.PositiveSmallIntegerField()),
                ('sessions_used', models.PositiveSmallIntegerField()),
                ('unused_value', models.DecimalField(decimal_places=2, max_digits=10)),
                ('settled_amount', models.DecimalField(decimal_places=2, max_digits=10)),
                ('currency', models.CharField(default='USD', max_length=3)),
                ('note', models.CharField(blank=True, max_length=200)),
                ('closed_at', models.DateTimeField(auto_now_add=True)),
                ('closed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ('package_sale', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='closure', to='billing.packagesale')),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
            ],
            options={
                'ordering': ['-closed_at', '-id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('unused_value__gte', 0), ('settled_amount__gte', 0), ('settled_amount__lte', models.F('unused_value')), ('sessions_used__lte', models.F('sessions_sold'))), name='billing_package_closure_amounts')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
