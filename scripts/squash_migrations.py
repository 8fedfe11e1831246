"""Write the squashed migrations (one or two per app) that a new database applies.

    PYTHONPATH=. python scripts/squash_migrations.py

Each app's migrations are replaced by one squashed migration, or two where the
history's dependencies would otherwise form a cycle (SPLITS: audit's 0005
depends on apps that depend on audit 0002, patients' 0004 on audit 0002). Each
squash's operations are the autodetector's difference between the project state
before its migrations and after them (so one CreateModel per model with its
fields, indexes and constraints), then the RunPython code of the migrations it
replaces (`neuroclinic.audit.squashed.replayed`). Its dependencies are those of
the migrations it replaces, mapped to the squashes that replace them, so a
squash is only ever marked applied after what it depends on.
"""

import os
import sys
from pathlib import Path
from typing import Any

import django

SPLITS = {"accounts": ["0005"], "audit": ["0005"], "patients": ["0004"]}
SUFFIX = "newdb18g"


def main() -> None:
    for old in Path("neuroclinic").glob(f"*/migrations/*_squashed_*_{SUFFIX}.py"):
        old.unlink()  # written again below, from the old migrations alone
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neuroclinic.settings")
    os.environ.setdefault("SECRET_KEY", "squash")
    django.setup()
    from django.db.migrations import CreateModel
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.migration import Migration
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.migrations.writer import MigrationWriter

    loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
    graph = loader.graph
    project = sorted(
        node
        for node in graph.nodes
        if loader.get_migration(*node).__module__.startswith("neuroclinic.")
        and not loader.get_migration(*node).replaces
    )

    def group_of(node: tuple[str, str]) -> tuple[str, int]:
        app, name = node
        return app, sum(1 for start in SPLITS.get(app, []) if name[:4] >= start)

    groups: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for node in project:
        groups.setdefault(group_of(node), []).append(node)
    for members in groups.values():
        members.sort()
    names = {
        key: f"{members[0][1][:4]}_squashed_{members[-1][1][:4]}_{SUFFIX}"
        for key, members in groups.items()
        if len(members) > 1
    }

    def squashed_node(node: tuple[str, str]) -> tuple[str, str]:
        if node not in project:
            return node
        key = group_of(node)
        return (node[0], names[key]) if key in names else node

    # Groups in an order where each comes after every group it depends on.
    parents = {
        key: {
            group_of(parent.key)
            for member in members
            for parent in graph.node_map[member].parents
            if parent.key in project and group_of(parent.key) != key
        }
        for key, members in groups.items()
    }
    order: list[tuple[str, int]] = []
    while len(order) < len(groups):
        ready = sorted(k for k in groups if k not in order and parents[k] <= set(order))
        if not ready:
            sys.exit(f"cycle among {sorted(set(groups) - set(order))}")
        order.append(ready[0])

    def columns_of(state: Any, app: str) -> dict[str, set[str]]:
        """Each table of the app's models in `state`, and its columns."""
        tables = {}
        for (model_app, model_name), model in state.models.items():
            if (
                model_app != app
                or model.options.get("proxy")
                or not model.options.get("managed", True)
            ):
                continue
            columns = set()
            for field_name, field in model.fields.items():
                if field.many_to_many:
                    continue
                field = field.clone()
                field.set_attributes_from_name(field_name)
                columns.add(field.get_attname_column()[1])
            tables[model.options.get("db_table") or f"{app}_{model_name}"] = columns
        return tables

    final_state = graph.make_state(
        nodes=project, at_end=True, real_apps=loader.unmigrated_apps
    )
    applied: set[tuple[str, str]] = set()
    for key in order:
        app, _ = key
        members = groups[key]
        ancestors = {n for m in members for n in graph.forwards_plan(m)}
        before = (applied | ancestors) - set(members)
        after = before | set(members)
        state_before = graph.make_state(
            nodes=sorted(before), at_end=True, real_apps=loader.unmigrated_apps
        )
        state_after = graph.make_state(
            nodes=sorted(after), at_end=True, real_apps=loader.unmigrated_apps
        )
        applied |= after
        if key not in names:
            continue
        new_app = not any(model_app == app for model_app, _ in state_before.models)
        if new_app:  # every model of the app at once, in one CreateModels
            operations = [
                CreateModel(
                    name=model.name,
                    fields=list(model.fields.items()),
                    options=model.options,
                    bases=model.bases,
                    managers=model.managers,
                )
                for (model_app, _), model in sorted(state_after.models.items())
                if model_app == app
            ]
        else:  # (the autodetector takes the indexes and constraints out of to_state's options)
            detector = MigrationAutodetector(
                state_before, state_after, NonInteractiveMigrationQuestioner()
            )
            changes = detector._detect_changes()  # type: ignore[attr-defined]
            if set(changes) - {app} or len(changes.get(app, [])) > 1:
                sys.exit(f"{key}: the autodetector split the changes: {changes}")
            operations = changes[app][0].operations if app in changes else []
        dependencies = sorted(
            {
                squashed_node(parent.key)
                for member in members
                for parent in graph.node_map[member].parents
                if parent.key not in members
            }
        )
        attributes = {
            "operations": operations,
            "dependencies": dependencies,
            "replaces": members,
        }
        migration = type("Migration", (Migration,), attributes)(names[key], app)
        text = MigrationWriter(migration, include_header=False).as_string()
        package = f"neuroclinic.{app}.migrations"
        replays = [
            name
            for _, name in members
            if any(
                type(op).__name__ in ("RunPython", "RunSQL")
                for op in loader.get_migration(app, name).operations
            )
        ]
        columns_then = {}
        for _, name in members:
            migration_ops = loader.get_migration(app, name).operations
            runs = [
                i
                for i, op in enumerate(migration_ops)
                if type(op).__name__ == "RunPython"
            ]
            if not runs:
                continue
            then = graph.make_state(
                nodes=[parent.key for parent in graph.node_map[(app, name)].parents],
                at_end=True,
                real_apps=loader.unmigrated_apps,
            )
            done = 0
            for index in runs:
                for op in migration_ops[done:index]:
                    op.state_forwards(app, then)
                done = index
                old_columns, final_columns = (
                    columns_of(then, app),
                    columns_of(final_state, app),
                )
                changed = {
                    table: sorted(cols)
                    for table, cols in old_columns.items()
                    if cols != final_columns.get(table)
                }
                if changed:
                    columns_then[(name, index)] = changed
        if replays:
            head, _, rest = text.partition("\n\n\nclass Migration")
            text = f"{head}\n\nfrom neuroclinic.audit.squashed import replayed\n\n\nclass Migration{rest}"
            text += (
                "\n    # The old migrations' triggers and data code, as they ran, after the tables.\n"
                f"    operations += replayed(\n        {package!r},\n        {replays!r},\n"
                + (f"        columns_then={columns_then!r},\n" if columns_then else "")
                + "    )\n"
            )
        if new_app:
            head, _, rest = text.partition("    operations = [\n")
            body, _, tail = rest.partition("\n    ]\n")
            body = "\n".join(
                f"    {line}" if line else line for line in body.splitlines()
            )
            text = f"{head}    operations = [\n        CreateModels(\n{body}\n        ),\n    ]\n{tail}"
            replays_import = "from neuroclinic.audit.squashed import CreateModels"
            if replays:
                text = text.replace(
                    "from neuroclinic.audit.squashed import replayed",
                    "from neuroclinic.audit.squashed import CreateModels, replayed",
                )
            else:
                head, _, rest = text.partition("\n\n\nclass Migration")
                text = f"{head}\n\n{replays_import}\n\n\nclass Migration{rest}"
        path = Path("neuroclinic", app, "migrations", f"{names[key]}.py")
        header = (
            f'"""{app}: the tables as its migrations {members[0][1][:4]}-{members[-1][1][:4]} leave them, '
            f'for a new database (written by scripts/squash_migrations.py)."""\n\n'
        )
        path.write_text(header + text)
        sys.stdout.write(
            f"{path}: {len(operations)} operations, {len(replays)} replayed\n"
        )


if __name__ == "__main__":
    main()
