# The stored per-day episode counts are days of the clinic's calendar, not UTC days
# (issue 18 item 7). The rows already stored were counted by UTC day, and say so:
# they get time_zone "UTC". No data is recomputed here: the counts are derived, and
# the dashboard counts the episode rows themselves while a clinic's stored counts are
# of another zone; the next refresh (every ten minutes) counts them again in the
# clinic's zone (outcomes.actions.summaries.recount).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0007_outcomes11e_outcome_rules"),
    ]

    operations = [
        migrations.AddField(
            model_name="episodesummarycount",
            name="time_zone",
            field=models.CharField(
                default="UTC",
                help_text="The IANA zone whose calendar `first_infusion_on` is a day of.",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="episodesummarycount",
            name="first_infusion_on",
            field=models.DateField(
                help_text="The day of the first infusion in the zone `time_zone` (the clinic's)."
            ),
        ),
    ]
