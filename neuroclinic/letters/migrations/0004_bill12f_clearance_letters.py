"""Clearance requests are letters (issue #12): a letter kind and the decision it quotes.

Clearance PDFs made in intake before stay on their decision (intake.EligibilityDecision.
clearance_letter) and are linked from the patient's letters page; nothing is copied or deleted.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0004_tamper15d_consult_notes_append_only'),
        ('letters', '0003_tamper15_append_only'),
    ]

    operations = [
        migrations.AddField(
            model_name='letter',
            name='eligibility_decision',
            field=models.ForeignKey(blank=True, help_text='A clearance request: the signed eligibility decision that asks for it.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='intake.eligibilitydecision'),
        ),
        migrations.AlterField(
            model_name='lettertemplate',
            name='kind',
            field=models.CharField(choices=[('end_of_series', 'End-of-series summary to the referring provider'), ('consult', 'Consult summary to the referring provider'), ('therapist', 'Note to the therapist'), ('booster', 'Booster or course-change notice'), ('tms_course', 'TMS course summary'), ('concerns', "Answer to a provider's concerns"), ('clearance', 'Clearance request to another provider')], max_length=16),
        ),
    ]
