"""patients: the tables as its migrations 0001-0003 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.core.validators
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('patients', '0001_initial'), ('patients', '0002_patient_prescriber'), ('patients', '0003_phone_search_reversed')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='Allergy',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('recorded_at', models.DateTimeField(auto_now_add=True)),
                    ('ended_at', models.DateTimeField(blank=True, null=True)),
                    ('end_reason', models.CharField(blank=True, choices=[('resolved', 'Resolved / stopped'), ('entered_in_error', 'Entered in error')], max_length=20)),
                    ('substance', models.CharField(max_length=200)),
                    ('reaction', models.CharField(blank=True, max_length=200)),
                    ('severity', models.CharField(choices=[('mild', 'Mild'), ('moderate', 'Moderate'), ('severe', 'Severe'), ('unknown', 'Unknown')], default='unknown', max_length=10)),
                    ('ended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='allergies', to='patients.patient')),
                ],
                options={
                    'verbose_name_plural': 'allergies',
                    'ordering': ['patient', 'substance', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='CareTeamProvider',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('role', models.CharField(choices=[('referring', 'Referring provider'), ('therapist', 'Therapist'), ('primary_care', 'Primary care')], max_length=20)),
                    ('name', models.CharField(max_length=200)),
                    ('npi', models.CharField(blank=True, max_length=10, verbose_name='NPI')),
                    ('practice', models.CharField(blank=True, max_length=200)),
                    ('phone', models.CharField(blank=True, max_length=30)),
                    ('fax', models.CharField(blank=True, max_length=30)),
                    ('email', models.EmailField(blank=True, max_length=200)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='care_team', to='patients.patient')),
                ],
                options={
                    'ordering': ['patient', 'role', 'name', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Contact',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('kind', models.CharField(choices=[('emergency', 'Emergency contact'), ('escort', 'Escort (drives the patient home)')], max_length=20)),
                    ('name', models.CharField(max_length=200)),
                    ('relationship', models.CharField(blank=True, max_length=60)),
                    ('phone', models.CharField(max_length=30)),
                    ('email', models.EmailField(blank=True, max_length=200)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='contacts', to='patients.patient')),
                ],
                options={
                    'ordering': ['patient', 'kind', 'name', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Diagnosis',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('recorded_at', models.DateTimeField(auto_now_add=True)),
                    ('ended_at', models.DateTimeField(blank=True, null=True)),
                    ('end_reason', models.CharField(blank=True, choices=[('resolved', 'Resolved / stopped'), ('entered_in_error', 'Entered in error')], max_length=20)),
                    ('icd10_code', models.CharField(max_length=8, validators=[django.core.validators.RegexValidator('^[A-TV-Z][0-9][0-9AB](\\.[0-9A-TV-Z]{1,4})?$', 'Enter an ICD-10-CM code such as F33.2.')], verbose_name='ICD-10-CM code')),
                    ('description', models.CharField(max_length=200)),
                    ('ended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='diagnoses', to='patients.patient')),
                ],
                options={
                    'verbose_name_plural': 'diagnoses',
                    'ordering': ['patient', 'icd10_code', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Medication',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('recorded_at', models.DateTimeField(auto_now_add=True)),
                    ('ended_at', models.DateTimeField(blank=True, null=True)),
                    ('end_reason', models.CharField(blank=True, choices=[('resolved', 'Resolved / stopped'), ('entered_in_error', 'Entered in error')], max_length=20)),
                    ('name', models.CharField(max_length=200)),
                    ('dose', models.CharField(blank=True, help_text='As the patient takes it, e.g. 20 mg daily.', max_length=100)),
                    ('ended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='medications', to='patients.patient')),
                ],
                options={
                    'ordering': ['patient', 'name', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Patient',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('mrn', models.CharField(editable=False, max_length=20, verbose_name='MRN')),
                    ('family_name', models.CharField(max_length=100, verbose_name='Legal family name')),
                    ('given_name', models.CharField(max_length=100, verbose_name='Legal given name')),
                    ('middle_name', models.CharField(blank=True, max_length=100)),
                    ('preferred_name', models.CharField(blank=True, max_length=100)),
                    ('birth_date', models.DateField(verbose_name='Date of birth')),
                    ('sex_at_birth', models.CharField(choices=[('female', 'Female'), ('male', 'Male'), ('intersex', 'Intersex'), ('unknown', 'Unknown'), ('declined', 'Declined to answer')], max_length=10)),
                    ('gender_identity', models.CharField(blank=True, max_length=60)),
                    ('pronouns', models.CharField(blank=True, max_length=40)),
                    ('phone', models.CharField(blank=True, max_length=30)),
                    ('email', models.EmailField(blank=True, max_length=200)),
                    ('address_line1', models.CharField(blank=True, max_length=200)),
                    ('address_line2', models.CharField(blank=True, max_length=200)),
                    ('city', models.CharField(blank=True, max_length=100)),
                    ('state', models.CharField(blank=True, max_length=50)),
                    ('postal_code', models.CharField(blank=True, max_length=20)),
                    ('preferred_language', models.CharField(default='English', max_length=40)),
                    ('family_name_search', models.CharField(db_index=True, editable=False, max_length=100)),
                    ('given_name_search', models.CharField(db_index=True, editable=False, max_length=100)),
                    ('preferred_name_search', models.CharField(db_index=True, editable=False, max_length=100)),
                    ('phone_search', models.CharField(db_index=True, editable=False, max_length=10)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('created_by', models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='patients', to='clinics.organization')),
                    ('prescriber', models.ForeignKey(blank=True, help_text='The responsible prescriber: safety alerts go to them first.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='patients_prescribed', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['family_name_search', 'given_name_search', 'id'],
                    'indexes': [models.Index(fields=['organization', 'birth_date'], name='patient_org_dob')],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'mrn'), name='patient_mrn_unique')],
                },
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.patients.migrations',
        ['0003_phone_search_reversed'],
    )
