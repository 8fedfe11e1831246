"""audit: the tables as its migrations 0005-0009 leave them, for a new database (written by scripts/squash_migrations.py)."""

from django.db import migrations

from neuroclinic.audit.squashed import replayed


class Migration(migrations.Migration):

    replaces = [('audit', '0005_integrity_seal_existing'), ('audit', '0006_seal_tms_letters_billing'), ('audit', '0007_scale17b_audit_chain_per_organization'), ('audit', '0008_tamper15d_seal_lists_notes'), ('audit', '0009_lead_seal_em_rules_coding')]

    dependencies = [
        ('accounts', '0001_squashed_0004_newdb18g'),
        ('audit', '0001_squashed_0004_newdb18g'),
        ('billing', '0001_squashed_0007_newdb18g'),
        ('infusions', '0001_squashed_0008_newdb18g'),
        ('intake', '0001_squashed_0004_newdb18g'),
        ('ledger', '0001_squashed_0003_newdb18g'),
        ('letters', '0001_squashed_0004_newdb18g'),
        ('measures', '0001_squashed_0009_newdb18g'),
        ('patients', '0001_squashed_0003_newdb18g'),
        ('patients', '0004_squashed_0005_newdb18g'),
        ('tms', '0001_squashed_0007_newdb18g'),
        ('treatment', '0001_squashed_0003_newdb18g'),
    ]

    operations = [
    ]

    # The old migrations' triggers and data code, as they ran, after the tables.
    operations += replayed(
        'neuroclinic.audit.migrations',
        ['0005_integrity_seal_existing', '0006_seal_tms_letters_billing', '0007_scale17b_audit_chain_per_organization', '0008_tamper15d_seal_lists_notes', '0009_lead_seal_em_rules_coding'],
    )
