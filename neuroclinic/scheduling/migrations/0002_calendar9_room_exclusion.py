"""PostgreSQL: a room holds one visit at a time, enforced by the database as well.

An exclusion constraint (btree_gist) refuses two holding appointments of one room whose
held times (start to end of turnover) overlap, whatever wrote them. Staff (a nurse may
watch two infusions) and devices (a many-to-many without times) are guarded by the
booking actions' lock on the location row instead. SQLite has no exclusion constraints;
it serializes writers (IMMEDIATE transactions), so the actions' check-then-write holds.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

HOLDING = ("booked", "confirmed", "move_requested", "moved", "checked_in")
NAME = "scheduling_appointment_room_no_overlap"


def add(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    statuses = ", ".join(f"'{s}'" for s in HOLDING)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {NAME} "
        "EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, held_until, '[)') WITH &&) "
        f"WHERE (room_id IS NOT NULL AND status IN ({statuses}))"
    )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {NAME}"
    )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(add, drop)]
