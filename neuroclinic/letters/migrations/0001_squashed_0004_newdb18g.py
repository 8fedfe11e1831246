"""letters: the tables as its migrations 0001-0004 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('letters', '0001_initial'), ('letters', '0002_letters12_addenda_part2_email'), ('letters', '0003_tamper15_append_only'), ('letters', '0004_bill12f_clearance_letters')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('audit', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
        ('intake', '0001_squashed_0004_newdb18g'),
        ('patients', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='Letter',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('body', models.TextField(help_text='The filled Markdown, as signed.')),
                    ('status', models.CharField(choices=[('draft', 'Draft'), ('signed', 'Signed')], default='draft', max_length=8)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('signed_at', models.DateTimeField(blank=True, null=True)),
                    ('body_sha256', models.CharField(blank=True, max_length=64)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                    ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.careteamprovider')),
                    ('signed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('template', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='letters', to='letters.lettertemplate')),
                    ('part2', models.BooleanField(default=False, help_text="Quotes substance-use records covered by 42 CFR Part 2: sent only with the patient's Part 2 consent for this recipient.")),
                    ('eligibility_decision', models.ForeignKey(blank=True, help_text='A clearance request: the signed eligibility decision that asks for it.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='intake.eligibilitydecision')),
                ],
                options={
                    'ordering': ['-created_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='LetterAddendum',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('body', models.TextField()),
                    ('body_sha256', models.CharField(max_length=64)),
                    ('signed_at', models.DateTimeField(auto_now_add=True)),
                    ('letter', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='addenda', to='letters.letter')),
                    ('signed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['signed_at', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='LetterSend',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('channel', models.CharField(choices=[('print', 'Printed (handed or posted)'), ('fax', 'Faxed from the PDF'), ('email', 'Email (link, never an attachment)')], max_length=8)),
                    ('address', models.CharField(blank=True, max_length=200)),
                    ('sent_at', models.DateTimeField(auto_now_add=True)),
                    ('letter', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sends', to='letters.letter')),
                    ('sent_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('link_expires_at', models.DateTimeField(blank=True, help_text='Email only: when the signed link stops working.', null=True)),
                ],
                options={
                    'ordering': ['sent_at', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='LetterTemplate',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('kind', models.CharField(choices=[('end_of_series', 'End-of-series summary to the referring provider'), ('consult', 'Consult summary to the referring provider'), ('therapist', 'Note to the therapist'), ('booster', 'Booster or course-change notice'), ('tms_course', 'TMS course summary'), ('concerns', "Answer to a provider's concerns"), ('clearance', 'Clearance request to another provider')], max_length=16)),
                    ('version', models.PositiveIntegerField()),
                    ('body', models.TextField(help_text='Markdown with {{ fields }} from the chart.')),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'ordering': ['organization', 'kind', '-version'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'kind', 'version'), name='letters_template_version')],
                },
            ),
            migrations.CreateModel(
                name='Part2Consent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('purpose', models.CharField(max_length=200)),
                    ('expires_on', models.DateField()),
                    ('recorded_at', models.DateTimeField(auto_now_add=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                    ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.careteamprovider')),
                    ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['patient', '-recorded_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.letters.migrations',
        ['0003_tamper15_append_only'],
        columns_then={('0003_tamper15_append_only', 0): {'letters_letter': ['body', 'body_sha256', 'created_at', 'created_by_id', 'id', 'organization_id', 'part2', 'patient_id', 'recipient_id', 'signed_at', 'signed_by_id', 'status', 'template_id', 'uuid']}},
    )
