"""site: the tables as its migrations 0001-0002 leave them, for a new database (written by scripts/squash_migrations.py)."""

import django.core.validators
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

from neuroclinic.audit.squashed import CreateModels


class Migration(migrations.Migration):

    replaces = [('site', '0001_initial'), ('site', '0002_ux18c_clinicians_photos')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('clinics', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
        CreateModels(
            migrations.CreateModel(
                name='ClinicianProfile',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('name', models.CharField(max_length=120)),
                    ('credentials', models.CharField(blank=True, help_text='For example: MD, board-certified psychiatrist.', max_length=120)),
                    ('role', models.CharField(help_text='What they do here, such as Medical director.', max_length=120)),
                    ('bio', models.TextField(blank=True, help_text='A short paragraph, in plain words.', max_length=1200)),
                    ('photo', models.FileField(blank=True, max_length=200, upload_to='site/people/')),
                    ('position', models.PositiveSmallIntegerField(default=0)),
                    ('is_published', models.BooleanField(default=True, verbose_name='Shown on the site')),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'ordering': ['organization', 'position', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='FaqEntry',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('question', models.CharField(max_length=300)),
                    ('answer', models.TextField(help_text='Markdown.')),
                    ('position', models.PositiveSmallIntegerField(default=0)),
                    ('is_published', models.BooleanField(default=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'verbose_name': 'FAQ entry',
                    'verbose_name_plural': 'FAQ entries',
                    'ordering': ['organization', 'position', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='SitePage',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('slug', models.CharField(choices=[('home', 'Home'), ('conditions', 'Conditions we treat'), ('treatments', 'Treatments'), ('process', 'Our process'), ('faq', 'Questions and answers'), ('contact', 'Contact and location')], max_length=16)),
                    ('title', models.CharField(max_length=120)),
                    ('meta_description', models.CharField(max_length=300)),
                    ('body', models.TextField(help_text='Markdown. HTML is removed except safe formatting.')),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                ],
                options={
                    'ordering': ['organization', 'slug'],
                    'constraints': [models.UniqueConstraint(fields=('organization', 'slug'), name='site_page_slug')],
                    'indexes': [],
                },
            ),
            migrations.CreateModel(
                name='SitePhoto',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('image', models.FileField(max_length=200, upload_to='site/photos/')),
                    ('width', models.PositiveIntegerField()),
                    ('height', models.PositiveIntegerField()),
                    ('alt_text', models.CharField(help_text='What the photo shows, such as: An infusion room with a recliner and dimmed lights.', max_length=200, verbose_name='Description for people who cannot see it')),
                    ('caption', models.CharField(blank=True, max_length=200)),
                    ('position', models.PositiveSmallIntegerField(default=0)),
                    ('is_published', models.BooleanField(default=True, verbose_name='Shown on the site')),
                    ('uploaded_at', models.DateTimeField(auto_now_add=True)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'ordering': ['organization', 'position', 'id'],
                    'indexes': [],
                    'constraints': [],
                },
            ),
            migrations.CreateModel(
                name='SiteSettings',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('clinic_name', models.CharField(blank=True, help_text="Shown on the site; blank uses the organization's name.", max_length=200)),
                    ('tagline', models.CharField(blank=True, max_length=200)),
                    ('logo', models.FileField(blank=True, max_length=200, upload_to='site/')),
                    ('logo_content_type', models.CharField(blank=True, max_length=40)),
                    ('primary_colour', models.CharField(default='#1f4e79', max_length=7, validators=[django.core.validators.RegexValidator('^#[0-9a-fA-F]{6}$', 'Enter a colour as # and six hex digits, such as #1f4e79.')])),
                    ('accent_colour', models.CharField(default='#8a4b08', max_length=7, validators=[django.core.validators.RegexValidator('^#[0-9a-fA-F]{6}$', 'Enter a colour as # and six hex digits, such as #1f4e79.')])),
                    ('address', models.TextField(blank=True)),
                    ('phone', models.CharField(blank=True, max_length=40)),
                    ('email', models.EmailField(blank=True, max_length=254)),
                    ('hours', models.TextField(blank=True, help_text='One line per day or range.')),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('organization', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.organization')),
                    ('infusion_setting', models.TextField(blank=True, help_text='Markdown, shown on the treatments page: the room, the pump, who watches and how. Describe only what is true of this clinic.', verbose_name='How an infusion is given here')),
                    ('price_ranges', models.TextField(blank=True, help_text='Markdown, shown on the treatments page only while the billing price list is empty (once it has prices, the page shows those).', verbose_name='Price ranges')),
                ],
                options={
                    'verbose_name_plural': 'site settings',
                    'indexes': [],
                    'constraints': [],
                },
            ),
        ),
    ]
