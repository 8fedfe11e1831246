"""billing: the tables as its migrations 0001-0007 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.db.models.deletion
import neuroclinic.billing.rules
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('billing', '0001_initial'), ('billing', '0002_tamper15_append_only'), ('billing', '0003_billing12b_visit_services'), ('billing', '0004_billing12c_new_patient_visits'), ('billing', '0005_billing12d_statements'), ('billing', '0006_billing12d_em_rule_versions'), ('billing', '0007_bill12f_package_closures')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('audit', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
        ('patients', '0001_squashed_0003_newdb18g'),
        ('patients', '0004_squashed_0005_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='BillingIdentity',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('legal_name', models.CharField(max_length=200)),
                    ('tax_id', models.CharField(max_length=10, verbose_name='Tax ID (EIN)')),
                    ('organization_npi', models.CharField(blank=True, max_length=10, verbose_name='Organization NPI')),
                    ('address', models.CharField(max_length=300)),
                    ('phone', models.CharField(max_length=40)),
                    ('place_of_service', models.CharField(choices=[('11', 'Office'), ('02', 'Telehealth')], default=neuroclinic.billing.rules.PlaceOfService['OFFICE'], max_length=2)),
                    ('currency', models.CharField(default='USD', max_length=3)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'ordering': ['organization', '-created_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='EmRuleVersion',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('version', models.PositiveIntegerField()),
                    ('new_patient_bands', models.JSONField()),
                    ('established_bands', models.JSONField()),
                    ('lookback_years', models.PositiveSmallIntegerField()),
                    ('change_note', models.CharField(max_length=500)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'ordering': ['organization', '-version'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'version'), name='billing_em_rule_version')],
                },
            ),
            migrations.CreateModel(
                name='GoodFaithEstimate',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('number', models.CharField(max_length=20)),
                    ('trigger', models.CharField(max_length=10)),
                    ('scheduled_on', models.DateField(help_text='Day the service was booked or the estimate asked for.')),
                    ('service_on', models.DateField(blank=True, null=True)),
                    ('due_by', models.DateField(blank=True, null=True)),
                    ('total', models.DecimalField(decimal_places=2, max_digits=10)),
                    ('currency', models.CharField(default='USD', max_length=3)),
                    ('content', models.JSONField()),
                    ('given_at', models.DateTimeField(auto_now_add=True)),
                    ('given_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ],
                options={
                    'ordering': ['-given_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Invoice',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('number', models.CharField(max_length=20)),
                    ('kind', models.CharField(choices=[('visit', 'Visit'), ('package', 'Package')], max_length=8)),
                    ('service_date', models.DateField()),
                    ('session_ref', models.UUIDField(blank=True, null=True, unique=True)),
                    ('total', models.DecimalField(decimal_places=2, max_digits=10)),
                    ('currency', models.CharField(default='USD', max_length=3)),
                    ('issued_at', models.DateTimeField(auto_now_add=True)),
                    ('issued_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('location', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.location')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                    ('rendering_provider', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('package_sale', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='billing.packagesale')),
                ],
                options={
                    'ordering': ['-issued_at', '-id'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'number'), name='billing_invoice_number')],
                },
            ),
            migrations.CreateModel(
                name='InvoiceLine',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('position', models.PositiveSmallIntegerField()),
                    ('description', models.CharField(max_length=200)),
                    ('code', models.CharField(max_length=5)),
                    ('modifiers', models.CharField(blank=True, max_length=20)),
                    ('units', models.PositiveSmallIntegerField()),
                    ('unit_price', models.DecimalField(decimal_places=2, max_digits=10)),
                    ('amount', models.DecimalField(decimal_places=2, max_digits=10)),
                    ('service_date', models.DateField()),
                    ('place_of_service', models.CharField(default=neuroclinic.billing.rules.PlaceOfService['OFFICE'], max_length=2)),
                    ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='billing.invoice')),
                    ('price', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.price')),
                    ('service', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.service')),
                ],
                options={
                    'ordering': ['invoice', 'position'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='NumberSequence',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('prefix', models.CharField(max_length=4)),
                    ('next_number', models.PositiveIntegerField(default=1)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'constraints': [models.UniqueConstraint(fields=('organization', 'prefix'), name='billing_number_sequence')],
                    'indexes': [],
                },
            ),
            migrations.CreateModel(
                name='Package',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('name', models.CharField(max_length=200)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('service', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.service')),
                ],
                options={
                    'ordering': ['organization', 'name'],
                    'indexes': [],
                    'constraints': [],
                },
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
                    'indexes': [],
                },
            ),
            migrations.CreateModel(
                name='PackageSale',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('sold_at', models.DateTimeField(auto_now_add=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                    ('sold_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('package_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sales', to='billing.packageversion')),
                ],
                options={
                    'ordering': ['-sold_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='PackageVersion',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('version', models.PositiveIntegerField()),
                    ('sessions', models.PositiveSmallIntegerField()),
                    ('price', models.DecimalField(decimal_places=2, max_digits=10)),
                    ('deposit', models.DecimalField(decimal_places=2, max_digits=10)),
                    ('currency', models.CharField(default='USD', max_length=3)),
                    ('unused_sessions', models.CharField(choices=[('refund', 'Unused sessions refunded at their share'), ('credit', 'Unused sessions kept as credit on account'), ('forfeit', 'Unused sessions forfeited after the course ends')], max_length=8)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('package', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='billing.package')),
                ],
                options={
                    'ordering': ['package', '-version'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('package', 'version'), name='billing_package_version'), models.CheckConstraint(condition=models.Q(('price__gte', 0), ('deposit__gte', 0), ('deposit__lte', models.F('price'))), name='billing_package_amounts')],
                },
            ),
            migrations.CreateModel(
                name='PayerStatusAnswer',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('status', models.CharField(choices=[('uninsured', 'Uninsured'), ('self_pay', 'Insured, paying the clinic directly'), ('insured', 'Wants insurance billed')], max_length=10)),
                    ('member_id', models.CharField(blank=True, max_length=40, verbose_name='Insurance member ID')),
                    ('asked_at', models.DateTimeField(auto_now_add=True)),
                    ('asked_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ],
                options={
                    'ordering': ['patient', '-asked_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Payment',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('kind', models.CharField(choices=[('payment', 'Payment'), ('refund', 'Refund'), ('credit_applied', 'Credit applied'), ('forfeited', 'Credit forfeited (package terms)')], max_length=16)),
                    ('method', models.CharField(choices=[('cash', 'Cash'), ('card', 'Card (terminal)'), ('check', 'Check'), ('financing', 'Financing'), ('credit', 'Credit on account')], max_length=10)),
                    ('amount', models.DecimalField(decimal_places=2, max_digits=10)),
                    ('currency', models.CharField(default='USD', max_length=3)),
                    ('reference', models.CharField(blank=True, max_length=80)),
                    ('processor', models.CharField(blank=True, max_length=40)),
                    ('processor_ref', models.CharField(blank=True, max_length=120)),
                    ('note', models.CharField(blank=True, max_length=200)),
                    ('received_at', models.DateTimeField(auto_now_add=True)),
                    ('invoice', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='billing.invoice')),
                    ('location', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.location')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('package_sale', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='billing.packagesale')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                    ('received_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('refund_of', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='refunds', to='billing.payment')),
                ],
                options={
                    'ordering': ['received_at', 'id'],
                    'indexes': [],
                    'constraints': [models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='billing_payment_positive')],
                },
            ),
            migrations.CreateModel(
                name='Price',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('version', models.PositiveIntegerField()),
                    ('amount', models.DecimalField(decimal_places=2, max_digits=10)),
                    ('currency', models.CharField(default='USD', max_length=3)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('reason', models.CharField(blank=True, max_length=200)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('service', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='prices', to='billing.service')),
                ],
                options={
                    'ordering': ['service', '-version'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('service', 'version'), name='billing_price_version'), models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='billing_price_not_negative')],
                },
            ),
            migrations.CreateModel(
                name='RenderingProvider',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('npi', models.CharField(max_length=10, verbose_name='NPI')),
                    ('license_number', models.CharField(max_length=40)),
                    ('license_state', models.CharField(max_length=2)),
                    ('taxonomy_code', models.CharField(blank=True, max_length=10)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='billing_identities', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['user', '-created_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Service',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('key', models.CharField(choices=[('consult', 'Psychiatric evaluation (consult)'), ('psych_eval', 'Psychiatric evaluation without medical services'), ('em_99202', 'Office visit, new patient, 15-29 min'), ('em_99203', 'Office visit, new patient, 30-44 min'), ('em_99204', 'Office visit, new patient, 45-59 min'), ('em_99205', 'Office visit, new patient, 60 min or more'), ('em_99212', 'Office visit, established patient, 10-19 min'), ('em_99213', 'Office visit, established patient, 20-29 min'), ('em_99214', 'Office visit, established patient, 30-39 min'), ('em_99215', 'Office visit, established patient, 40 min or more'), ('infusion', 'Ketamine infusion, first hour'), ('infusion_hour', 'Infusion, each additional hour'), ('iv_push', 'IV push (15 minutes or less)'), ('booster', 'Booster infusion, first hour'), ('ketamine', 'Ketamine (drug)'), ('prn_medication', 'As-needed medication (drug)'), ('tms_initial', 'TMS first session with motor threshold'), ('tms_session', 'TMS session'), ('tms_motor_threshold', 'TMS session with motor threshold')], max_length=24)),
                    ('name', models.CharField(max_length=200)),
                    ('code', models.CharField(max_length=5, verbose_name='CPT/HCPCS')),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'ordering': ['organization', 'key'],
                    'indexes': [],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'key'), name='billing_service_key')],
                },
            ),
            migrations.CreateModel(
                name='Statement',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('number', models.CharField(max_length=20)),
                    ('period_start', models.DateField()),
                    ('period_end', models.DateField()),
                    ('closing_balance', models.DecimalField(decimal_places=2, max_digits=10)),
                    ('currency', models.CharField(default='USD', max_length=3)),
                    ('content', models.JSONField()),
                    ('made_at', models.DateTimeField(auto_now_add=True)),
                    ('made_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ],
                options={
                    'ordering': ['-made_at', '-id'],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'number'), name='billing_statement_number'), models.CheckConstraint(condition=models.Q(('period_end__gte', models.F('period_start'))), name='billing_statement_period')],
                    'indexes': [],
                },
            ),
            migrations.CreateModel(
                name='Superbill',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('period_start', models.DateField()),
                    ('period_end', models.DateField()),
                    ('content', models.JSONField()),
                    ('made_at', models.DateTimeField(auto_now_add=True)),
                    ('made_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ],
                options={
                    'ordering': ['-made_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='VisitCoding',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('new_patient', models.BooleanField()),
                    ('minutes', models.PositiveSmallIntegerField(blank=True, null=True)),
                    ('suggested_code', models.CharField(max_length=5)),
                    ('chosen_code', models.CharField(max_length=5)),
                    ('basis', models.CharField(max_length=300)),
                    ('made_at', models.DateTimeField(auto_now_add=True)),
                    ('invoice', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='coding', to='billing.invoice')),
                    ('rule_version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='codings', to='billing.emruleversion')),
                ],
                options={
                    'ordering': ['-made_at', '-id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.billing.migrations',
        ['0002_tamper15_append_only', '0005_billing12d_statements', '0006_billing12d_em_rule_versions', '0007_bill12f_package_closures'],
    )
