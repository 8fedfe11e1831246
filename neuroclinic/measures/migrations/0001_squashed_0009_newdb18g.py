"""measures: the tables as its migrations 0001-0009 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.db.models.deletion
import django.utils.timezone
import neuroclinic.measures.instruments.catalogue
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('measures', '0001_initial'), ('measures', '0002_responses_append_only'), ('measures', '0003_safety_treatment_resumption'), ('measures', '0004_fhir13b_phq8_gad2_choices'), ('measures', '0005_tms10b_tms_triggers'), ('measures', '0006_tamper15c_safety_alerts_append_only'), ('measures', '0007_tms10c_hamd17_choices'), ('measures', '0008_tamper15d_resumption_append_only'), ('measures', '0009_tms10f_seizure_alert')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('audit', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
        ('patients', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='DueMeasure',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('instrument_code', models.CharField(choices=[(neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ9'], 'Patient Health Questionnaire-9 (PHQ-9)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ2'], 'Patient Health Questionnaire-2 (PHQ-2)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['GAD7'], 'Generalized Anxiety Disorder-7 (GAD-7)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['QIDS_SR16'], 'Quick Inventory of Depressive Symptomatology, Self-Report, 16 items (QIDS-SR16)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['MADRS'], 'Montgomery-Asberg Depression Rating Scale (MADRS)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['CSSRS_SCREENER'], 'Columbia-Suicide Severity Rating Scale, Screen Version - Recent (C-SSRS Screener)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PCL5'], 'PTSD Checklist for DSM-5 (PCL-5)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['MDQ'], 'Mood Disorder Questionnaire (MDQ)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['AUDIT_C'], 'Alcohol Use Disorders Identification Test - Consumption (AUDIT-C)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['DAST10'], 'Drug Abuse Screening Test, 10 items (DAST-10)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['CADSS6'], 'Clinician-Administered Dissociative States Scale, 6-item short form (CADSS-6)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ8'], 'Patient Health Questionnaire-8 (PHQ-8)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['GAD2'], 'Generalized Anxiety Disorder-2 (GAD-2)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['HAMD17'], 'Hamilton Depression Rating Scale, 17 items (HAM-D17)')], max_length=32)),
                    ('trigger', models.CharField(choices=[('intake', 'At intake'), ('before_infusion', 'Before each infusion'), ('after_infusion', 'After each infusion'), ('after_induction_weekly', 'Weekly after the induction series'), ('before_booster', 'Before each booster'), ('tms_course_start', 'From the first day of a TMS course'), ('tms_course_week', 'Each week of a TMS course'), ('tms_course_end', 'On the last day of a TMS course')], max_length=32)),
                    ('event_ref', models.CharField(blank=True, help_text='The event it came from.', max_length=80)),
                    ('due_at', models.DateTimeField(db_index=True)),
                    ('overdue_at', models.DateTimeField()),
                    ('status', models.CharField(choices=[('due', 'Due'), ('completed', 'Completed'), ('cancelled', 'Cancelled')], default='due', max_length=10)),
                    ('reminders_sent', models.PositiveSmallIntegerField(default=0)),
                    ('last_reminded_at', models.DateTimeField(blank=True, null=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='due_measures', to='patients.patient')),
                    ('response', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='measures.questionnaireresponse')),
                ],
                options={
                    'ordering': ['due_at', 'id'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('patient', 'instrument_code', 'trigger', 'event_ref', 'due_at'), name='due_measure_once_per_event')],
                },
            ),
            migrations.CreateModel(
                name='InstrumentWording',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('instrument_code', models.CharField(choices=[(neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ9'], 'Patient Health Questionnaire-9 (PHQ-9)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ2'], 'Patient Health Questionnaire-2 (PHQ-2)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['GAD7'], 'Generalized Anxiety Disorder-7 (GAD-7)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['QIDS_SR16'], 'Quick Inventory of Depressive Symptomatology, Self-Report, 16 items (QIDS-SR16)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['MADRS'], 'Montgomery-Asberg Depression Rating Scale (MADRS)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['CSSRS_SCREENER'], 'Columbia-Suicide Severity Rating Scale, Screen Version - Recent (C-SSRS Screener)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PCL5'], 'PTSD Checklist for DSM-5 (PCL-5)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['MDQ'], 'Mood Disorder Questionnaire (MDQ)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['AUDIT_C'], 'Alcohol Use Disorders Identification Test - Consumption (AUDIT-C)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['DAST10'], 'Drug Abuse Screening Test, 10 items (DAST-10)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['CADSS6'], 'Clinician-Administered Dissociative States Scale, 6-item short form (CADSS-6)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ8'], 'Patient Health Questionnaire-8 (PHQ-8)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['GAD2'], 'Generalized Anxiety Disorder-2 (GAD-2)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['HAMD17'], 'Hamilton Depression Rating Scale, 17 items (HAM-D17)')], max_length=32)),
                    ('link_id', models.CharField(max_length=40)),
                    ('text', models.TextField()),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('updated_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['instrument_code', 'link_id', 'id'],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'instrument_code', 'link_id'), name='wording_once_per_item')],
                    'indexes': [],
                },
            ),
            migrations.CreateModel(
                name='MeasurementRule',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('instrument_code', models.CharField(choices=[(neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ9'], 'Patient Health Questionnaire-9 (PHQ-9)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ2'], 'Patient Health Questionnaire-2 (PHQ-2)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['GAD7'], 'Generalized Anxiety Disorder-7 (GAD-7)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['QIDS_SR16'], 'Quick Inventory of Depressive Symptomatology, Self-Report, 16 items (QIDS-SR16)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['MADRS'], 'Montgomery-Asberg Depression Rating Scale (MADRS)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['CSSRS_SCREENER'], 'Columbia-Suicide Severity Rating Scale, Screen Version - Recent (C-SSRS Screener)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PCL5'], 'PTSD Checklist for DSM-5 (PCL-5)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['MDQ'], 'Mood Disorder Questionnaire (MDQ)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['AUDIT_C'], 'Alcohol Use Disorders Identification Test - Consumption (AUDIT-C)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['DAST10'], 'Drug Abuse Screening Test, 10 items (DAST-10)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['CADSS6'], 'Clinician-Administered Dissociative States Scale, 6-item short form (CADSS-6)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ8'], 'Patient Health Questionnaire-8 (PHQ-8)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['GAD2'], 'Generalized Anxiety Disorder-2 (GAD-2)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['HAMD17'], 'Hamilton Depression Rating Scale, 17 items (HAM-D17)')], max_length=32)),
                    ('trigger', models.CharField(choices=[('intake', 'At intake'), ('before_infusion', 'Before each infusion'), ('after_infusion', 'After each infusion'), ('after_induction_weekly', 'Weekly after the induction series'), ('before_booster', 'Before each booster'), ('tms_course_start', 'From the first day of a TMS course'), ('tms_course_week', 'Each week of a TMS course'), ('tms_course_end', 'On the last day of a TMS course')], max_length=32)),
                    ('offset_hours', models.SmallIntegerField(default=0, help_text='Hours after the event it falls due (negative: before).')),
                    ('repeat_count', models.PositiveSmallIntegerField(default=1, help_text='How many times (e.g. 8 for weekly for 8 weeks).')),
                    ('repeat_every_days', models.PositiveSmallIntegerField(default=0)),
                    ('window_hours', models.PositiveSmallIntegerField(default=24, help_text='Hours after falling due before it counts as overdue.')),
                    ('is_active', models.BooleanField(default=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='measurement_rules', to='clinics.organization')),
                ],
                options={
                    'ordering': ['organization', 'trigger', 'instrument_code', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='PortalLink',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('instrument_codes', models.JSONField(help_text='Instruments to complete, in order.')),
                    ('token_hash', models.CharField(max_length=64, unique=True)),
                    ('channel', models.CharField(choices=[('email', 'Email'), ('sms', 'Text message'), ('kiosk', 'Clinic tablet'), ('none', 'Not sent (copied by staff)')], max_length=10)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('expires_at', models.DateTimeField()),
                    ('used_at', models.DateTimeField(blank=True, null=True)),
                    ('alert_raised', models.BooleanField(default=False)),
                    ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='portal_links', to='patients.patient')),
                ],
                options={
                    'ordering': ['-created_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='QuestionnaireResponse',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('instrument_code', models.CharField(choices=[(neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ9'], 'Patient Health Questionnaire-9 (PHQ-9)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ2'], 'Patient Health Questionnaire-2 (PHQ-2)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['GAD7'], 'Generalized Anxiety Disorder-7 (GAD-7)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['QIDS_SR16'], 'Quick Inventory of Depressive Symptomatology, Self-Report, 16 items (QIDS-SR16)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['MADRS'], 'Montgomery-Asberg Depression Rating Scale (MADRS)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['CSSRS_SCREENER'], 'Columbia-Suicide Severity Rating Scale, Screen Version - Recent (C-SSRS Screener)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PCL5'], 'PTSD Checklist for DSM-5 (PCL-5)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['MDQ'], 'Mood Disorder Questionnaire (MDQ)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['AUDIT_C'], 'Alcohol Use Disorders Identification Test - Consumption (AUDIT-C)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['DAST10'], 'Drug Abuse Screening Test, 10 items (DAST-10)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['CADSS6'], 'Clinician-Administered Dissociative States Scale, 6-item short form (CADSS-6)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['PHQ8'], 'Patient Health Questionnaire-8 (PHQ-8)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['GAD2'], 'Generalized Anxiety Disorder-2 (GAD-2)'), (neuroclinic.measures.instruments.catalogue.InstrumentCode['HAMD17'], 'Hamilton Depression Rating Scale, 17 items (HAM-D17)')], max_length=32)),
                    ('instrument_version', models.CharField(max_length=16)),
                    ('answers', models.JSONField(help_text='Item answers by linkId, as given.')),
                    ('sex_for_scoring', models.CharField(blank=True, max_length=10)),
                    ('total', models.SmallIntegerField(blank=True, null=True)),
                    ('severity', models.CharField(blank=True, max_length=32)),
                    ('flags', models.JSONField(default=list)),
                    ('subscales', models.JSONField(default=dict)),
                    ('triage', models.CharField(blank=True, max_length=16)),
                    ('raises_safety_alert', models.BooleanField(default=False)),
                    ('source', models.CharField(choices=[('staff', 'Entered by staff'), ('portal', 'Patient, by portal link'), ('kiosk', 'Patient, on the clinic tablet'), ('self_check', 'Patient, public self-check'), ('api', 'API')], max_length=16)),
                    ('completed_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('submission_key', models.UUIDField(blank=True, null=True, unique=True)),
                    ('amendment_reason', models.TextField(blank=True)),
                    ('version', models.PositiveSmallIntegerField(default=1)),
                    ('amends', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='amended_by', to='measures.questionnaireresponse')),
                    ('entered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='questionnaire_responses', to='patients.patient')),
                    ('portal_link', models.ForeignKey(blank=True, help_text='The link or tablet session it was answered through.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='responses', to='measures.portallink')),
                ],
                options={
                    'ordering': ['patient', 'instrument_code', 'completed_at', 'id'],
                    'indexes': [models.Index(fields=['patient', 'instrument_code', 'completed_at'], name='response_trajectory')],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='SafetyAlert',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('reason', models.CharField(choices=[('phq9_item9_positive', 'PHQ-9 item 9 positive'), ('qids_item12_positive', 'QIDS-SR16 item 12 positive'), ('madrs_item10_positive', 'MADRS item 10 positive'), ('hamd17_item3_positive', 'HAM-D17 item 3 (suicide) positive'), ('cssrs_positive', 'C-SSRS screen positive'), ('clinician_flag', "Clinician's concern"), ('possible_manic_switch', 'Possible manic or hypomanic switch'), ('tms_seizure', 'Seizure during a TMS session')], max_length=32)),
                    ('detail', models.TextField(blank=True)),
                    ('raised_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ('escalated_at', models.DateTimeField(blank=True, null=True)),
                    ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                    ('assessment', models.JSONField(blank=True, default=dict)),
                    ('risk_level', models.CharField(blank=True, choices=[('low', 'Low'), ('moderate', 'Moderate'), ('high', 'High')], max_length=10)),
                    ('disposition', models.CharField(blank=True, choices=[('no_action_needed', 'No further action needed (reason documented)'), ('safety_plan', 'Safety plan reviewed and updated'), ('treat_with_monitoring', 'Treatment may continue with closer monitoring'), ('pause_treatment', 'Treatment paused pending review'), ('urgent_evaluation', 'Referred for urgent psychiatric evaluation'), ('emergency_services', 'Emergency services contacted')], max_length=32)),
                    ('disposition_note', models.TextField(blank=True)),
                    ('acknowledged_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('assessment_response', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='measures.questionnaireresponse')),
                    ('assigned_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('escalated_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='safety_alerts', to='patients.patient')),
                    ('portal_link', models.ForeignKey(blank=True, help_text='The link the patient was answering when an answer raised the alert.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='safety_alerts', to='measures.portallink')),
                    ('raised_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('response', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='safety_alerts', to='measures.questionnaireresponse')),
                ],
                options={
                    'ordering': ['-raised_at', '-id'],
                    'indexes': [models.Index(fields=['patient', 'acknowledged_at'], name='alert_open_by_patient')],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='TreatmentResumption',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('reason', models.TextField()),
                    ('signed_at', models.DateTimeField()),
                    ('alert', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='resumption', to='measures.safetyalert')),
                    ('signed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'indexes': [],
                    'constraints': [],
                },
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.measures.migrations',
        ['0002_responses_append_only', '0006_tamper15c_safety_alerts_append_only', '0008_tamper15d_resumption_append_only'],
    )
