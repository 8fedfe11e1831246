"""treatment: the tables as its migrations 0001-0003 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('treatment', '0001_initial'), ('treatment', '0002_tamper15c_append_only'), ('treatment', '0003_tamper15d_induction_dates')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('audit', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
        ('patients', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='InfusionOrder',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('kind', models.CharField(choices=[('induction', 'Induction series'), ('booster', 'Booster')], max_length=12)),
                    ('status', models.CharField(choices=[('active', 'Active'), ('superseded', 'Superseded by a later order'), ('discontinued', 'Discontinued'), ('completed', 'All infusions given')], default='active', max_length=14)),
                    ('drug', models.CharField(default='Ketamine HCl (RxNorm 6130)', max_length=60)),
                    ('infusion_count', models.PositiveSmallIntegerField()),
                    ('dose_mg_per_kg', models.DecimalField(decimal_places=3, max_digits=5)),
                    ('duration_minutes', models.PositiveSmallIntegerField()),
                    ('dosing_weight_rule', models.CharField(choices=[('actual', 'Actual body weight'), ('ideal', 'Ideal body weight (Devine)'), ('adjusted', 'Adjusted body weight (IBW + 0.4 x (actual - IBW))')], max_length=10)),
                    ('max_dose_mg_per_kg', models.DecimalField(decimal_places=3, max_digits=5)),
                    ('max_dose_mg', models.DecimalField(decimal_places=1, max_digits=7)),
                    ('diluent_volume_ml', models.DecimalField(decimal_places=1, max_digits=7)),
                    ('rate_min_percent', models.PositiveSmallIntegerField()),
                    ('rate_max_percent', models.PositiveSmallIntegerField()),
                    ('titration_instructions', models.TextField()),
                    ('given_count', models.PositiveSmallIntegerField(default=0, help_text='Infusions given under this order.')),
                    ('reason', models.TextField(blank=True, help_text='Why this order (a dose change).')),
                    ('signed_at', models.DateTimeField()),
                    ('content_sha256', models.CharField(max_length=64)),
                    ('ended_at', models.DateTimeField(blank=True, null=True)),
                    ('end_reason', models.TextField(blank=True)),
                    ('ended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='infusion_orders', to='patients.patient')),
                    ('signed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('supersedes', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='superseded_by', to='treatment.infusionorder')),
                    ('protocol', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='treatment.protocol')),
                    ('plan', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='treatment.treatmentplan')),
                ],
                options={
                    'ordering': ['-signed_at', '-id'],
                    'indexes': [models.Index(fields=['plan', 'status'], name='order_plan_status')],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='PrnOrder',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('drug', models.CharField(max_length=80)),
                    ('dose', models.DecimalField(decimal_places=3, max_digits=7)),
                    ('unit', models.CharField(default='mg', max_length=10)),
                    ('route', models.CharField(choices=[('IV', 'Intravenous (IV)'), ('PO', 'By mouth (PO)'), ('ODT', 'Orally disintegrating tablet (ODT)'), ('IM', 'Intramuscular (IM)'), ('SL', 'Sublingual (SL)')], max_length=4)),
                    ('indication', models.CharField(max_length=200)),
                    ('max_doses_per_session', models.PositiveSmallIntegerField(default=1)),
                    ('order', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='prn_medications', to='treatment.infusionorder')),
                ],
                options={
                    'ordering': ['order', 'drug', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Protocol',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('family', models.UUIDField(db_index=True, default=uuid.uuid4)),
                    ('version', models.PositiveIntegerField(default=1)),
                    ('kind', models.CharField(choices=[('induction', 'Induction series'), ('booster', 'Booster')], max_length=12)),
                    ('name', models.CharField(max_length=120)),
                    ('status', models.CharField(choices=[('draft', 'Draft'), ('active', 'Active (signed)'), ('retired', 'Retired')], default='draft', max_length=10)),
                    ('infusion_count', models.PositiveSmallIntegerField()),
                    ('infusions_per_week_min', models.PositiveSmallIntegerField()),
                    ('infusions_per_week_max', models.PositiveSmallIntegerField()),
                    ('series_window_days', models.PositiveSmallIntegerField()),
                    ('min_days_between_infusions', models.PositiveSmallIntegerField()),
                    ('dose_mg_per_kg', models.DecimalField(decimal_places=3, max_digits=5)),
                    ('duration_minutes', models.PositiveSmallIntegerField()),
                    ('dosing_weight_rule', models.CharField(choices=[('actual', 'Actual body weight'), ('ideal', 'Ideal body weight (Devine)'), ('adjusted', 'Adjusted body weight (IBW + 0.4 x (actual - IBW))')], max_length=10)),
                    ('titration_step_mg_per_kg', models.DecimalField(decimal_places=3, max_digits=5)),
                    ('max_dose_mg_per_kg', models.DecimalField(decimal_places=3, max_digits=5)),
                    ('max_dose_mg', models.DecimalField(decimal_places=1, max_digits=7)),
                    ('diluent_volume_ml', models.DecimalField(decimal_places=1, max_digits=7)),
                    ('rate_min_percent', models.PositiveSmallIntegerField()),
                    ('rate_max_percent', models.PositiveSmallIntegerField()),
                    ('vitals_interval_minutes', models.PositiveSmallIntegerField()),
                    ('recovery_vitals_interval_minutes', models.PositiveSmallIntegerField()),
                    ('baseline_systolic_max_mmhg', models.PositiveSmallIntegerField()),
                    ('baseline_diastolic_max_mmhg', models.PositiveSmallIntegerField()),
                    ('baseline_systolic_caution_mmhg', models.PositiveSmallIntegerField()),
                    ('baseline_diastolic_caution_mmhg', models.PositiveSmallIntegerField()),
                    ('npo_solids_hours', models.PositiveSmallIntegerField()),
                    ('npo_clear_liquids_hours', models.PositiveSmallIntegerField()),
                    ('min_recovery_minutes', models.PositiveSmallIntegerField()),
                    ('min_aldrete_total', models.PositiveSmallIntegerField()),
                    ('min_moaas_score', models.PositiveSmallIntegerField()),
                    ('follow_up_window_start_days', models.PositiveSmallIntegerField()),
                    ('follow_up_window_end_days', models.PositiveSmallIntegerField()),
                    ('booster_interval_days_min', models.PositiveSmallIntegerField()),
                    ('booster_interval_days_max', models.PositiveSmallIntegerField()),
                    ('pregnancy_test_required', models.BooleanField()),
                    ('second_check_required', models.BooleanField(help_text='A second nurse confirms each calculated dose before the draw.')),
                    ('titration_instructions', models.TextField()),
                    ('alarm_thresholds', models.JSONField(default=dict)),
                    ('prn_medications', models.JSONField(default=list)),
                    ('citations', models.JSONField(default=dict, help_text='Field -> source of its value.')),
                    ('change_note', models.TextField(blank=True)),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('signed_at', models.DateTimeField(blank=True, null=True)),
                    ('content_sha256', models.CharField(blank=True, max_length=64)),
                    ('retired_at', models.DateTimeField(blank=True, null=True)),
                    ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('signed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('supersedes', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='superseded_by', to='treatment.protocol')),
                ],
                options={
                    'ordering': ['kind', 'name', '-version', 'id'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('family', 'version'), name='protocol_family_version_unique'), models.UniqueConstraint(condition=models.Q(('status', 'active')), fields=('family',), name='protocol_one_active_version')],
                },
            ),
            migrations.CreateModel(
                name='TreatmentPlan',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('indication', models.CharField(max_length=200)),
                    ('status', models.CharField(choices=[('active', 'Active'), ('ended', 'Ended')], default='active', max_length=10)),
                    ('induction_dates', models.JSONField(default=list)),
                    ('booster_count', models.PositiveSmallIntegerField(default=0)),
                    ('last_infusion_at', models.DateTimeField(blank=True, null=True)),
                    ('induction_completed_at', models.DateTimeField(blank=True, null=True)),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('ended_at', models.DateTimeField(blank=True, null=True)),
                    ('end_reason', models.TextField(blank=True)),
                    ('booster_protocol', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='treatment.protocol')),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('ended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('induction_protocol', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='treatment.protocol')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='treatment_plans', to='patients.patient')),
                ],
                options={
                    'ordering': ['-created_at', '-id'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'active')), fields=('patient',), name='plan_one_active_per_patient')],
                },
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.treatment.migrations',
        ['0002_tamper15c_append_only', '0003_tamper15d_induction_dates'],
    )
