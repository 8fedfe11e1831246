"""Protocols, plans, orders and their PRN lines are append-only by database trigger
(issue #15 item 1), on SQLite and PostgreSQL, except for the steps of their life cycle:

- a protocol is signed once (a draft becomes active: status, signer, time, content hash
  and the version it replaces) and retired once (active to retired: status and time).
  A draft's settings never change (a change is a new draft) and no protocol is deleted;
- a plan is ended once (active to ended: status, who, when, why), and counts each
  infusion given under it (one more induction date or one more booster, the time of the
  last infusion, and when the induction series was completed, set once), also after it
  ended: an infusion running when the plan ended still counts;
- an order is ended once (active to superseded, discontinued or completed: status,
  who, when, why), and counts each infusion given under it (given_count up by one),
  also after it ended, for the same reason;
- a PRN line never changes.

Every other column never changes, nothing is deleted. Every row is also sealed
(neuroclinic/audit/seals.py). `created_at` now takes the action's time (the demo's
history passes it) instead of being set on save; on SQLite that alters the tables,
which is why the triggers are installed after it here.
"""

import django.utils.timezone
from django.db import migrations, models

from neuroclinic.audit.triggers import Guard, Step, install, remove

ENDED = ("status", "ended_by_id", "ended_at", "end_reason")

GUARDS = [
    Guard(
        "treatment_protocol",
        steps=(
            Step(
                "OLD.status = 'draft' AND NEW.status = 'active'",
                ("status", "signed_by_id", "signed_at", "content_sha256", "supersedes_id"),
            ),
            Step(
                "OLD.status = 'active' AND NEW.status = 'retired'",
                ("status", "retired_at"),
            ),
        ),
    ),
    Guard(
        "treatment_treatmentplan",
        steps=(
            Step("OLD.status = 'active' AND NEW.status = 'ended'", ENDED),
            Step(
                # One infusion counted: one more induction date, or one more booster.
                "((NEW.booster_count = OLD.booster_count + 1"
                " AND NEW.induction_dates = OLD.induction_dates)"
                " OR (NEW.booster_count = OLD.booster_count"
                " AND NEW.induction_dates <> OLD.induction_dates))"
                " AND (OLD.induction_completed_at IS NULL"
                " OR NEW.induction_completed_at = OLD.induction_completed_at)",
                (
                    "induction_dates",
                    "booster_count",
                    "last_infusion_at",
                    "induction_completed_at",
                ),
            ),
        ),
    ),
    Guard(
        "treatment_infusionorder",
        steps=(
            Step(
                "OLD.status = 'active'"
                " AND NEW.status IN ('superseded', 'discontinued', 'completed')",
                ENDED,
            ),
            Step("NEW.given_count = OLD.given_count + 1", ("given_count",)),
        ),
    ),
    Guard("treatment_prnorder"),
]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("treatment", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="protocol",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="treatmentplan",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(forwards, backwards),
    ]
