"""clinics: the tables as its migrations 0001-0003 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.core.validators
import django.db.models.deletion
import neuroclinic.clinics.models
import uuid
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels


class Migration(migrations.Migration):

    replaces = [('clinics', '0001_initial'), ('clinics', '0002_crisis_settings'), ('clinics', '0003_tms10c_device_max_output')]

    dependencies = [
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='Device',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('kind', models.CharField(choices=[('infusion_pump', 'Infusion pump'), ('monitor', 'Patient monitor'), ('tms_unit', 'TMS unit')], max_length=20)),
                    ('name', models.CharField(max_length=100)),
                    ('manufacturer', models.CharField(blank=True, max_length=100)),
                    ('model_name', models.CharField(blank=True, max_length=100)),
                    ('serial_number', models.CharField(blank=True, max_length=100)),
                    ('is_active', models.BooleanField(default=True)),
                    ('location', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='devices', to='clinics.location')),
                    ('room', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='devices', to='clinics.room')),
                    ('max_output_percent', models.PositiveSmallIntegerField(default=100, help_text='TMS units: the highest output a session may use, 1-100 %.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(100)], verbose_name='Maximum output (% of machine output)')),
                ],
                options={
                    'ordering': ['location', 'kind', 'name', 'id'],
                    'indexes': [],
                    'constraints': [models.CheckConstraint(condition=models.Q(('max_output_percent__gte', 1), ('max_output_percent__lte', 100)), name='device_max_output_1_to_100')],
                },
            ),
            migrations.CreateModel(
                name='Location',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('name', models.CharField(max_length=200)),
                    ('address_line1', models.CharField(max_length=200)),
                    ('address_line2', models.CharField(blank=True, max_length=200)),
                    ('city', models.CharField(max_length=100)),
                    ('state', models.CharField(max_length=50)),
                    ('postal_code', models.CharField(max_length=20)),
                    ('country', models.CharField(default='US', max_length=2)),
                    ('phone', models.CharField(blank=True, max_length=40)),
                    ('time_zone', models.CharField(default='America/New_York', max_length=64, validators=[neuroclinic.clinics.models.validate_time_zone])),
                    ('is_active', models.BooleanField(default=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='locations', to='clinics.organization')),
                ],
                options={
                    'ordering': ['name', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='OpeningHours',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')])),
                    ('opens_at', models.TimeField()),
                    ('closes_at', models.TimeField()),
                    ('location', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='hours', to='clinics.location')),
                ],
                options={
                    'ordering': ['location', 'weekday', 'opens_at', 'id'],
                    'constraints': [models.CheckConstraint(condition=models.Q(('closes_at__gt', models.F('opens_at'))), name='opening_hours_close_after_open')],
                    'indexes': [],
                },
            ),
            migrations.CreateModel(
                name='Organization',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('name', models.CharField(max_length=200)),
                    ('phone', models.CharField(blank=True, max_length=40)),
                    ('email', models.EmailField(blank=True, max_length=254)),
                    ('website', models.URLField(blank=True)),
                    ('mrn_prefix', models.CharField(default='NC', help_text='Printed before every medical record number.', max_length=8)),
                    ('next_mrn', models.PositiveIntegerField(default=1, editable=False)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('alert_escalation_minutes', models.PositiveSmallIntegerField(default=60, help_text='An unacknowledged safety alert goes to the medical director after this long.')),
                    ('crisis_message', models.TextField(default='Thank you for telling us. A member of our clinical team will contact you today. If you are in danger now, call 911 or 988.', help_text='Shown to a patient whose answers raise a safety alert, under the crisis lines.')),
                ],
                options={
                    'ordering': ['name', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Room',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('name', models.CharField(max_length=100)),
                    ('kind', models.CharField(choices=[('infusion', 'Infusion room'), ('tms', 'TMS room'), ('consult', 'Consult room'), ('recovery', 'Recovery area')], max_length=20)),
                    ('is_active', models.BooleanField(default=True)),
                    ('location', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rooms', to='clinics.location')),
                ],
                options={
                    'ordering': ['location', 'name', 'id'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('location', 'name'), name='room_name_unique_per_location')],
                },
            ),
        ),
    ]
