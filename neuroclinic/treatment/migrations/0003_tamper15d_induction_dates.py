"""A plan's induction dates only grow by one date at a time (issue #15 item 1).

0002 let the infusion-counting step change `induction_dates` in any way, so a
raw UPDATE could replace, drop or insert earlier dates as long as the list
changed. Now counting an induction infusion must append exactly one date (a
string) with every earlier date unchanged and in order; a booster leaves the
list as it was. The triggers are created again with the stricter step
(neuroclinic/audit/triggers.py `json_appended_one`); backwards restores 0002's.
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, Step, install, json_appended_one

ENDED = ("status", "ended_by_id", "ended_at", "end_reason")
COUNTED = (
    "induction_dates",
    "booster_count",
    "last_infusion_at",
    "induction_completed_at",
)
COMPLETED_ONCE = (
    " AND (OLD.induction_completed_at IS NULL"
    " OR NEW.induction_completed_at = OLD.induction_completed_at)"
)


def _one_infusion(vendor: str) -> str:
    # One infusion counted: one more booster with the dates as they were, or one
    # more induction date appended to them.
    return (
        "((NEW.booster_count = OLD.booster_count + 1"
        " AND NEW.induction_dates = OLD.induction_dates)"
        " OR (NEW.booster_count = OLD.booster_count"
        f" AND {json_appended_one(vendor, 'induction_dates')}))" + COMPLETED_ONCE
    )


PLAN = Guard(
    "treatment_treatmentplan",
    steps=(
        Step("OLD.status = 'active' AND NEW.status = 'ended'", ENDED),
        Step(_one_infusion, COUNTED),
    ),
)

PLAN_0002 = Guard(
    "treatment_treatmentplan",
    steps=(
        Step("OLD.status = 'active' AND NEW.status = 'ended'", ENDED),
        Step(
            "((NEW.booster_count = OLD.booster_count + 1"
            " AND NEW.induction_dates = OLD.induction_dates)"
            " OR (NEW.booster_count = OLD.booster_count"
            " AND NEW.induction_dates <> OLD.induction_dates))" + COMPLETED_ONCE,
            COUNTED,
        ),
    ),
)


def forwards(apps, schema_editor):
    install(schema_editor, [PLAN])


def backwards(apps, schema_editor):
    install(schema_editor, [PLAN_0002])


class Migration(migrations.Migration):
    dependencies = [("treatment", "0002_tamper15c_append_only")]

    operations = [migrations.RunPython(forwards, backwards)]
