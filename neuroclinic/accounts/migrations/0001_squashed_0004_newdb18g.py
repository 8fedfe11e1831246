"""accounts: the tables as its migrations 0001-0004 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.contrib.auth.models
import django.contrib.auth.validators
import django.db.models.deletion
import django.utils.timezone
import neuroclinic.accounts.otp_secrets
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels, replayed


class Migration(migrations.Migration):

    replaces = [('accounts', '0001_initial'), ('accounts', '0002_roles'), ('accounts', '0003_security_token_expiry_scope'), ('accounts', '0004_authenticator_encrypted_recovery_hashed')]

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('clinics', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='ApiToken',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('name', models.CharField(max_length=100)),
                    ('prefix', models.CharField(help_text="The token's first characters, to tell it apart.", max_length=12)),
                    ('token_hash', models.CharField(max_length=64, unique=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('last_used_at', models.DateTimeField(blank=True, null=True)),
                    ('revoked_at', models.DateTimeField(blank=True, null=True)),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
                    ('expires_at', models.DateTimeField(null=True)),
                    ('scope', models.CharField(choices=[('full', "Everything the user's role allows"), ('vitals', 'Send vital signs from a monitor, nothing else')], default='full', max_length=20)),
                ],
                options={
                    'ordering': ['-created_at', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='Authenticator',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                    ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                    ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                    ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                    ('created_at', models.DateTimeField(auto_now_add=True, help_text='The date and time when this device was initially created in the system.', null=True)),
                    ('last_used_at', models.DateTimeField(blank=True, help_text='The most recent date and time this device was used.', null=True)),
                    ('secret_encrypted', models.TextField(default=neuroclinic.accounts.otp_secrets.new_encrypted_secret)),
                    ('step', models.PositiveSmallIntegerField(default=30)),
                    ('t0', models.BigIntegerField(default=0)),
                    ('digits', models.PositiveSmallIntegerField(default=6)),
                    ('tolerance', models.PositiveSmallIntegerField(default=1)),
                    ('drift', models.SmallIntegerField(default=0)),
                    ('last_t', models.BigIntegerField(default=-1)),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='authenticators', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'authenticator app',
                    'abstract': False,
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='RecoveryCode',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('digest', models.CharField(max_length=64)),
                    ('code_set', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='codes', to='accounts.recoverycodeset')),
                ],
                options={
                    'constraints': [models.UniqueConstraint(fields=('code_set', 'digest'), name='recovery_code_once_per_set')],
                    'indexes': [],
                },
            ),
            migrations.CreateModel(
                name='RecoveryCodeSet',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                    ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                    ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                    ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='recovery_code_sets', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'recovery codes',
                    'abstract': False,
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='User',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('password', models.CharField(max_length=128, verbose_name='password')),
                    ('last_login', models.DateTimeField(blank=True, null=True, verbose_name='last login')),
                    ('is_superuser', models.BooleanField(default=False, help_text='Designates that this user has all permissions without explicitly assigning them.', verbose_name='superuser status')),
                    ('username', models.CharField(error_messages={'unique': 'A user with that username already exists.'}, help_text='Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.', max_length=150, unique=True, validators=[django.contrib.auth.validators.UnicodeUsernameValidator()], verbose_name='username')),
                    ('first_name', models.CharField(blank=True, max_length=150, verbose_name='first name')),
                    ('last_name', models.CharField(blank=True, max_length=150, verbose_name='last name')),
                    ('email', models.EmailField(blank=True, max_length=254, verbose_name='email address')),
                    ('is_staff', models.BooleanField(default=False, help_text='Designates whether the user can log into this admin site.', verbose_name='staff status')),
                    ('is_active', models.BooleanField(default=True, help_text='Designates whether this user should be treated as active. Unselect this instead of deleting accounts.', verbose_name='active')),
                    ('date_joined', models.DateTimeField(default=django.utils.timezone.now, verbose_name='date joined')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('title', models.CharField(blank=True, help_text='For example MD, NP, RN, CRNA.', max_length=60)),
                    ('failed_sign_in_count', models.PositiveSmallIntegerField(default=0, editable=False)),
                    ('locked_until', models.DateTimeField(blank=True, editable=False, null=True)),
                    ('groups', models.ManyToManyField(blank=True, help_text='The groups this user belongs to. A user will get all permissions granted to each of their groups.', related_name='user_set', related_query_name='user', to='auth.group', verbose_name='groups')),
                    ('organization', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='staff', to='clinics.organization')),
                    ('user_permissions', models.ManyToManyField(blank=True, help_text='Specific permissions for this user.', related_name='user_set', related_query_name='user', to='auth.permission', verbose_name='user permissions')),
                ],
                options={
                    'verbose_name': 'user',
                    'verbose_name_plural': 'users',
                    'ordering': ['last_name', 'first_name', 'username', 'id'],
                    'abstract': False,
                    'indexes': [],
                    'constraints': [],
                },
                managers=[
                    ('objects', django.contrib.auth.models.UserManager()),
                ],
            ),
        ),
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.accounts.migrations',
        ['0002_roles', '0003_security_token_expiry_scope'],
        columns_then={('0002_roles', 0): {'accounts_apitoken': ['created_at', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at', 'token_hash', 'user_id', 'uuid']}},
    )
