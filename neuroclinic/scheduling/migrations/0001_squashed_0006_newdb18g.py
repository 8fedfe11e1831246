"""scheduling: the tables as its migrations 0001-0006 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('scheduling', '0001_initial'), ('scheduling', '0002_calendar9_room_exclusion'), ('scheduling', '0003_calendar9_tms_course_late_cancel'), ('scheduling', '0004_calendar9b_staff_feed'), ('scheduling', '0005_calendar9b_waitlist'), ('scheduling', '0006_calendar9c_booked_via_waitlist')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
        ('infusions', '0001_squashed_0008_newdb18g'),
        ('patients', '0001_squashed_0003_newdb18g'),
        ('tms', '0001_squashed_0007_newdb18g'),
        ('treatment', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='Appointment',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('starts_at', models.DateTimeField()),
                    ('ends_at', models.DateTimeField()),
                    ('held_until', models.DateTimeField(help_text="The end plus the type's turnover.")),
                    ('status', models.CharField(choices=[('booked', 'Booked'), ('confirmed', 'Confirmed'), ('move_requested', 'Patient asked to move'), ('moved', 'Moved'), ('checked_in', 'Checked in'), ('cancelled', 'Cancelled'), ('late_cancel', 'Late cancel'), ('no_show', 'No-show')], default='booked', max_length=20)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('booked_by', models.ForeignKey(blank=True, help_text='Empty when the patient booked it (booked_via says where).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('devices', models.ManyToManyField(blank=True, related_name='+', to='clinics.device')),
                    ('infusion_session', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='appointment', to='infusions.infusionsession')),
                    ('location', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.location')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='appointments', to='patients.patient')),
                    ('plan', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='treatment.treatmentplan')),
                    ('room', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.room')),
                    ('staff', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='appointments', to=settings.AUTH_USER_MODEL)),
                    ('appointment_type', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='scheduling.appointmenttype')),
                    ('series', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='appointments', to='scheduling.series')),
                    ('tms_course', models.ForeignKey(blank=True, help_text='The TMS course this session visit belongs to.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tms.tmscourse')),
                    ('booked_via', models.CharField(choices=[('staff', 'Staff'), ('patient_portal', 'The patient, in the portal'), ('waitlist_link', 'The patient, from a waitlist offer')], default='staff', max_length=20)),
                ],
                options={
                    'ordering': ['starts_at', 'id'],
                    'indexes': [models.Index(fields=['location', 'starts_at'], name='scheduling__locatio_6e7321_idx'), models.Index(fields=['patient', 'starts_at'], name='scheduling__patient_6d1824_idx')],
                    'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at')), ('held_until__gte', models.F('ends_at'))), name='scheduling_appointment_times_in_order'), models.CheckConstraint(condition=models.Q(('booked_by__isnull', False), models.Q(('booked_via', 'staff'), _negated=True), _connector='OR'), name='scheduling_appointment_staff_booking_names_staff')],
                },
            ),
            migrations.CreateModel(
                name='AppointmentStatusChange',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('status', models.CharField(choices=[('booked', 'Booked'), ('confirmed', 'Confirmed'), ('move_requested', 'Patient asked to move'), ('moved', 'Moved'), ('checked_in', 'Checked in'), ('cancelled', 'Cancelled'), ('late_cancel', 'Late cancel'), ('no_show', 'No-show')], max_length=20)),
                    ('at', models.DateTimeField()),
                    ('reason', models.CharField(blank=True, max_length=300)),
                    ('data', models.JSONField(blank=True, default=dict)),
                    ('appointment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='history', to='scheduling.appointment')),
                    ('by', models.ForeignKey(blank=True, help_text='Empty when the patient acted from the portal or a reminder link.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['at', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='AppointmentType',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('code', models.CharField(choices=[('consult', 'Consult'), ('intake_visit', 'Intake visit'), ('infusion', 'Infusion'), ('booster', 'Booster infusion'), ('tms_session', 'TMS session'), ('motor_threshold', 'Motor threshold'), ('follow_up', 'Follow-up'), ('phone_check_in', 'Phone check-in')], max_length=20)),
                    ('name', models.CharField(max_length=100)),
                    ('duration_minutes', models.PositiveSmallIntegerField()),
                    ('turnover_minutes', models.PositiveSmallIntegerField(default=0, help_text='Time the room and devices stay held after the visit.')),
                    ('room_kind', models.CharField(blank=True, choices=[('infusion', 'Infusion room'), ('tms', 'TMS room'), ('consult', 'Consult room'), ('recovery', 'Recovery area')], help_text='Blank: the visit needs no room (a phone check-in).', max_length=20)),
                    ('device_kinds', models.JSONField(default=list, help_text='Device kinds held for the visit, one of each.')),
                    ('staff_role', models.CharField(choices=[('clinic_admin', 'Clinic admin'), ('medical_director', 'Medical director'), ('prescriber', 'Prescriber'), ('nurse', 'Nurse / CRNA'), ('front_desk', 'Front desk'), ('tms_technician', 'TMS technician'), ('cs_custodian', 'Controlled-substance custodian'), ('billing', 'Billing'), ('auditor', 'Auditor')], help_text='The role of the staff member who runs the visit.', max_length=30)),
                    ('is_active', models.BooleanField(default=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'ordering': ['organization', 'code', 'id'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'code'), name='scheduling_type_code_unique_per_org'), models.CheckConstraint(condition=models.Q(('duration_minutes__gt', 0)), name='scheduling_type_duration_positive')],
                },
            ),
            migrations.CreateModel(
                name='Closure',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('starts_at', models.DateTimeField()),
                    ('ends_at', models.DateTimeField()),
                    ('reason', models.CharField(max_length=200)),
                    ('device', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.device')),
                    ('location', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.location')),
                    ('room', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.room')),
                ],
                options={
                    'ordering': ['starts_at', 'id'],
                    'indexes': [],
                    'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='scheduling_closure_ends_after_start')],
                },
            ),
            migrations.CreateModel(
                name='ReminderClaim',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('lead_hours', models.PositiveSmallIntegerField()),
                    ('channel', models.CharField(max_length=10)),
                    ('claimed_at', models.DateTimeField()),
                    ('appointment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reminders', to='scheduling.appointment')),
                ],
                options={
                    'ordering': ['claimed_at', 'id'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('appointment', 'lead_hours'), name='scheduling_reminder_once_per_lead')],
                },
            ),
            migrations.CreateModel(
                name='SchedulingSettings',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('nurse_max_running_infusions', models.PositiveSmallIntegerField(default=2, help_text='One nurse watches at most this many infusions at once.')),
                    ('prescriber_on_site_for_infusions', models.BooleanField(default=True, help_text='A prescriber must be on shift at the location while any infusion runs.')),
                    ('reminder_hours', models.JSONField(default=list, help_text='Hours before a visit that reminders go out, e.g. [48, 2].')),
                    ('slot_minutes', models.PositiveSmallIntegerField(default=30, help_text='Start times the series planner offers, in minutes.')),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('organization', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('late_cancel_hours', models.PositiveSmallIntegerField(default=24, help_text='A visit cancelled less than this many hours before it starts is recorded as a late cancel (0: never).')),
                    ('waitlist_notice_minutes', models.PositiveSmallIntegerField(default=180, help_text="The least notice a freed time must give to be offered to the waitlist (a cancel, a move, or what is left of a no-show's time).")),
                ],
                options={
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Series',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('explanation', models.JSONField(default=list, help_text='Why each visit was placed where it is.')),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                    ('plan', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='treatment.treatmentplan')),
                ],
                options={
                    'ordering': ['-created_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='StaffCalendarFeed',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('token_sha256', models.CharField(max_length=64, unique=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('revoked_at', models.DateTimeField(blank=True, null=True)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('revoked_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='calendar_feeds', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'constraints': [models.UniqueConstraint(condition=models.Q(('revoked_at__isnull', True)), fields=('user',), name='scheduling_one_active_feed_per_user')],
                    'indexes': [],
                },
            ),
            migrations.CreateModel(
                name='StaffShift',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('starts_at', models.DateTimeField()),
                    ('ends_at', models.DateTimeField()),
                    ('location', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.location')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='shifts', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['starts_at', 'id'],
                    'indexes': [models.Index(fields=['location', 'starts_at'], name='scheduling__locatio_89878a_idx')],
                    'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='scheduling_shift_ends_after_start')],
                },
            ),
            migrations.CreateModel(
                name='WaitlistEntry',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('status', models.CharField(choices=[('waiting', 'Waiting'), ('offered', 'Offered a time'), ('booked', 'Booked'), ('withdrawn', 'Withdrawn')], default='waiting', max_length=12)),
                    ('note', models.CharField(blank=True, max_length=300)),
                    ('created_at', models.DateTimeField()),
                    ('appointment', models.ForeignKey(blank=True, help_text='The booked visit to bring forward; empty for a new visit.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='scheduling.appointment')),
                    ('appointment_type', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='scheduling.appointmenttype')),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('location', models.ForeignKey(blank=True, help_text='Empty: any location.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.location')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ],
                options={
                    'indexes': [models.Index(fields=['organization', 'status', 'created_at'], name='scheduling__organiz_962ea2_idx')],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='WaitlistOffer',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('starts_at', models.DateTimeField()),
                    ('status', models.CharField(choices=[('open', 'Open'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('expired', 'Expired'), ('taken', 'No longer free')], default='open', max_length=10)),
                    ('created_at', models.DateTimeField()),
                    ('expires_at', models.DateTimeField()),
                    ('sent_at', models.DateTimeField(blank=True, null=True)),
                    ('answered_at', models.DateTimeField(blank=True, null=True)),
                    ('booked', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='scheduling.appointment')),
                    ('entry', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='offers', to='scheduling.waitlistentry')),
                    ('freed_from', models.ForeignKey(help_text='The visit whose time was freed (cancelled, moved away, or a no-show).', on_delete=django.db.models.deletion.PROTECT, related_name='+', to='scheduling.appointment')),
                    ('location', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.location')),
                    ('freed_because', models.CharField(choices=[('cancelled', 'Cancelled (also a late cancel)'), ('moved', 'Moved to another time'), ('no_show', "What was left of a no-show's time")], default='cancelled', max_length=10)),
                ],
                options={
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('freed_from', 'starts_at'), name='scheduling_one_open_offer_per_freed_time')],
                },
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.scheduling.migrations',
        ['0002_calendar9_room_exclusion'],
        columns_then={('0002_calendar9_room_exclusion', 0): {'scheduling_appointment': ['appointment_type_id', 'booked_by_id', 'created_at', 'ends_at', 'held_until', 'id', 'infusion_session_id', 'location_id', 'organization_id', 'patient_id', 'plan_id', 'room_id', 'series_id', 'staff_id', 'starts_at', 'status', 'uuid'], 'scheduling_schedulingsettings': ['id', 'nurse_max_running_infusions', 'organization_id', 'prescriber_on_site_for_infusions', 'reminder_hours', 'slot_minutes', 'updated_at']}},
    )
