"""The squashed migrations' operations (`neuroclinic.audit.squashed`) and the trigger installs'
column introspection (`neuroclinic.audit.triggers.table_columns`).

`CreateModels` renders only its new models when the rendered registry is current, and
renders every model afresh when a delayed operation may have left it stale. Either way
the registry that the next operations (and the next migrations) use must be the one a
render of every model gives: the same models, fields and reverse relations, and no
model pointing at a class that is no longer registered. Checked here after every
`CreateModels` of a new database's plan, from the project state alone (no database).
`tests/test_squashed_migrations.py` compares the schema the squashes build.
"""

from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from neuroclinic.audit.squashed import CreateModels
from neuroclinic.audit.tests.tamper import append_only_tables
from neuroclinic.audit.triggers import table_columns


def _relations(apps: Apps) -> dict[str, list[tuple[str, str, str]]]:
    """Each model's fields and reverse relations; asserts none points at an unregistered class."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        fields = []
        for field in model._meta.get_fields(include_hidden=True):
            related = field.related_model
            if related is not None and not isinstance(related, str):
                label = related._meta.label_lower
                assert apps.get_model(label) is related, (
                    f"{model._meta.label_lower}.{field.name} points at a stale {label}"
                )
            else:
                label = ""
            fields.append((field.name, type(field).__name__, label))
        found[model._meta.label_lower] = sorted(fields)
    return found


def _new_database_plan() -> list[Any]:
    """The migrations a new database applies, in the order migrate applies them."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    plan, seen = [], set()
    for target in loader.graph.leaf_nodes():
        for key in loader.graph.forwards_plan(target):
            if key not in seen:
                seen.add(key)
                plan.append(loader.graph.nodes[key])
    return plan


def test_each_create_models_leaves_the_registry_a_render_of_every_model_gives() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    state.apps  # noqa: B018 - rendered before the first migration, as the executor does
    checked = {"incremental": 0, "afresh": 0}
    for migration in _new_database_plan():
        for operation in migration.operations:
            delayed_before = state.is_delayed
            operation.state_forwards(migration.app_label, state)
            if not isinstance(operation, CreateModels):
                continue
            checked["afresh" if delayed_before else "incremental"] += 1
            assert not state.is_delayed
            fresh = ProjectState(models=state.models, real_apps=state.real_apps).apps
            assert _relations(state.apps) == _relations(fresh), migration.name
    # Both ways were taken (a delayed AlterField precedes some squashes, not others).
    assert checked["incremental"] >= 5, checked
    assert checked["afresh"] >= 2, checked


@pytest.mark.django_db
def test_table_columns_are_the_columns_django_s_introspection_names() -> None:
    tables = sorted(append_only_tables() | {"django_migrations"})
    assert len(tables) > 20
    with connection.cursor() as cursor:
        for table in tables:
            described = connection.introspection.get_table_description(cursor, table)
            assert table_columns(connection, table) == [c.name for c in described]


@pytest.mark.django_db
def test_table_columns_of_a_missing_table_is_an_error() -> None:
    with pytest.raises(DatabaseError):
        table_columns(connection, "no_such_table")
