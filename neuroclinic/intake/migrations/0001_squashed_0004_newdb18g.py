"""intake: the tables as its migrations 0001-0004 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('intake', '0001_initial'), ('intake', '0002_integrity_append_only'), ('intake', '0003_tamper15_consent_documents_append_only'), ('intake', '0004_tamper15d_consult_notes_append_only')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('audit', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
        ('patients', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='ConsentDocument',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('kind', models.CharField(choices=[('ketamine', 'IV ketamine treatment (off-label)'), ('tms', 'TMS treatment'), ('privacy', 'Notice of privacy practices'), ('financial', 'Financial policy'), ('communication', 'Communication preferences')], max_length=16)),
                    ('version', models.PositiveIntegerField()),
                    ('title', models.CharField(max_length=200)),
                    ('body', models.TextField(help_text='Markdown. Shown and signed exactly as written.')),
                    ('published_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['organization', 'kind', '-version'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'kind', 'version'), name='consent_version')],
                },
            ),
            migrations.CreateModel(
                name='ConsentSignature',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('typed_name', models.CharField(max_length=200)),
                    ('signature_image', models.FileField(max_length=200, upload_to='intake/signatures/')),
                    ('signed_text', models.TextField(help_text='The exact text the patient signed.')),
                    ('text_sha256', models.CharField(max_length=64)),
                    ('signed_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('ip_address', models.CharField(blank=True, max_length=45)),
                    ('channel', models.CharField(choices=[('portal', 'Patient portal'), ('tablet', 'Clinic tablet')], max_length=8)),
                    ('pdf', models.FileField(blank=True, max_length=200, upload_to='intake/consents/')),
                    ('pdf_sha256', models.CharField(blank=True, max_length=64)),
                    ('document', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signatures', to='intake.consentdocument')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consent_signatures', to='patients.patient')),
                    ('witnessed_by', models.ForeignKey(blank=True, help_text='The staff member who handed over the clinic tablet.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['patient', '-signed_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='ConsultNote',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('text', models.TextField()),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('request', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notes', to='intake.consultrequest')),
                ],
                options={
                    'ordering': ['request', 'created_at', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='ConsultRequest',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('status', models.CharField(choices=[('new', 'New'), ('contacted', 'Contacted'), ('consult_booked', 'Consult booked'), ('not_a_fit', 'Not a fit'), ('converted', 'Converted to patient')], db_index=True, default='new', max_length=20)),
                    ('given_name', models.CharField(max_length=100, verbose_name='First name')),
                    ('family_name', models.CharField(max_length=100, verbose_name='Last name')),
                    ('phone', models.CharField(blank=True, max_length=30)),
                    ('email', models.EmailField(blank=True, max_length=200)),
                    ('contact_method', models.CharField(choices=[('phone', 'Phone call'), ('text', 'Text message'), ('email', 'Email')], default='phone', max_length=10, verbose_name='Preferred contact method')),
                    ('contact_time', models.CharField(choices=[('any', 'Any time'), ('morning', 'Morning'), ('afternoon', 'Afternoon'), ('evening', 'Evening')], default='any', max_length=10, verbose_name='Best time to reach you')),
                    ('interest', models.CharField(choices=[('ketamine', 'IV ketamine infusion'), ('tms', 'TMS'), ('unsure', 'Not sure yet')], default='unsure', max_length=10, verbose_name='Treatment you are asking about')),
                    ('seeking_help_for', models.TextField(verbose_name='What you are looking for help with')),
                    ('referring_provider', models.CharField(blank=True, max_length=200)),
                    ('heard_about', models.CharField(blank=True, choices=[('provider', 'My doctor or therapist'), ('search', 'Web search'), ('friend', 'Friend or family'), ('social', 'Social media'), ('other', 'Other')], max_length=10, verbose_name='How you heard about us')),
                    ('consent_to_contact', models.BooleanField(default=False)),
                    ('self_check', models.JSONField(blank=True, default=list)),
                    ('source', models.CharField(choices=[('site', 'Public site'), ('api', 'API')], default='site', max_length=8)),
                    ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ('status_changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('converted_at', models.DateTimeField(blank=True, null=True)),
                    ('assigned_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('converted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='consult_requests', to='patients.patient')),
                ],
                options={
                    'ordering': ['-created_at', '-id'],
                    'indexes': [models.Index(fields=['organization', 'status', 'created_at'], name='consult_queue')],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='EligibilityDecision',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('outcome', models.CharField(choices=[('eligible', 'Eligible'), ('eligible_with_conditions', 'Eligible with conditions'), ('needs_clearance', 'Needs clearance from another provider'), ('not_eligible', 'Not eligible')], max_length=32)),
                    ('conditions', models.TextField(blank=True)),
                    ('reason', models.TextField(blank=True)),
                    ('referral_resources', models.TextField(blank=True)),
                    ('clearance_provider_name', models.CharField(blank=True, max_length=200)),
                    ('clearance_provider_practice', models.CharField(blank=True, max_length=200)),
                    ('clearance_provider_fax', models.CharField(blank=True, max_length=30)),
                    ('clearance_provider_email', models.EmailField(blank=True, max_length=200)),
                    ('clearance_question', models.TextField(blank=True)),
                    ('clearance_letter', models.FileField(blank=True, max_length=200, upload_to='intake/letters/')),
                    ('rules_version', models.CharField(max_length=40)),
                    ('findings', models.JSONField(default=list)),
                    ('facts', models.JSONField(default=dict)),
                    ('patient_message', models.TextField(help_text='What the patient was told in the portal, as shown.')),
                    ('signed_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('decided_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='eligibility_decisions', to='patients.patient')),
                ],
                options={
                    'ordering': ['patient', '-signed_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='EligibilityRuleSet',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('version', models.PositiveIntegerField()),
                    ('overrides', models.JSONField(blank=True, default=dict)),
                    ('reason', models.TextField()),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'ordering': ['organization', '-version'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'version'), name='eligibility_rules_version')],
                },
            ),
            migrations.CreateModel(
                name='IntakeDocument',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('kind', models.CharField(choices=[('referral', 'Referral letter'), ('records', 'Medical records'), ('insurance', 'Insurance card'), ('other', 'Other')], max_length=10)),
                    ('original_name', models.CharField(max_length=200)),
                    ('content_type', models.CharField(max_length=40)),
                    ('size_bytes', models.PositiveIntegerField()),
                    ('sha256', models.CharField(max_length=64)),
                    ('file', models.FileField(max_length=200, upload_to='intake/documents/')),
                    ('uploaded_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='intake_documents', to='patients.patient')),
                    ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['patient', 'uploaded_at', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='IntakePacket',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('sections', models.JSONField(blank=True, default=dict)),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('started_at', models.DateTimeField(blank=True, null=True)),
                    ('updated_at', models.DateTimeField(blank=True, null=True)),
                    ('submitted_at', models.DateTimeField(blank=True, null=True)),
                    ('last_reminder_at', models.DateTimeField(blank=True, null=True)),
                    ('reminder_count', models.PositiveSmallIntegerField(default=0)),
                    ('consult_request', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='intake.consultrequest')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='intake_packet', to='patients.patient')),
                ],
                options={
                    'ordering': ['-created_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='IntakeSettings',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('message_pending', models.TextField(default='Thank you for completing your intake. A prescriber is reviewing it and we will be in touch.')),
                    ('message_eligible', models.TextField(default='Good news: our prescriber has reviewed your intake and you can go ahead. The next step is to read and sign the consent forms.')),
                    ('message_eligible_with_conditions', models.TextField(default='Our prescriber has reviewed your intake and you can go ahead, with some conditions we will go through with you: {conditions}', help_text="{conditions} is replaced by the prescriber's conditions.")),
                    ('message_needs_clearance', models.TextField(default='Before we can go ahead, we need a note from {provider}. We have written to them and will let you know when we hear back.', help_text="{provider} is replaced by the provider's name.")),
                    ('message_not_eligible', models.TextField(default='After careful review, our prescriber does not think this treatment is the right choice for you at this time. We will call you to talk it through. {resources}', help_text='{resources} is replaced by the referral resources.')),
                    ('referral_resources', models.TextField(default="Your own doctor or psychiatrist can talk through other options. SAMHSA's helpline (1-800-662-4357) is free, confidential and open 24/7. If you are in crisis, call or text 988.")),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('organization', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'verbose_name_plural': 'intake settings',
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='PortalSignInLink',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('token_hash', models.CharField(max_length=64, unique=True)),
                    ('channel', models.CharField(choices=[('email', 'Email'), ('sms', 'Text message'), ('shown', 'Shown to staff'), ('tablet', 'Clinic tablet')], max_length=8)),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('expires_at', models.DateTimeField()),
                    ('used_at', models.DateTimeField(blank=True, null=True)),
                    ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ],
                options={
                    'ordering': ['-created_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.intake.migrations',
        ['0002_integrity_append_only', '0003_tamper15_consent_documents_append_only', '0004_tamper15d_consult_notes_append_only'],
    )
