"""The operations a squashed migration takes from the migrations it replaces.

A squashed migration (`replaces = [...]`) creates its app's tables as they stand
at the end of the migrations it replaces, in one CreateModel per model with its
fields, indexes and constraints; what those migrations did besides the schema
(the append-only triggers, the seals, the role groups, the PostgreSQL sequence
and exclusion constraint) is their `RunPython` code. `replayed()` takes that
code from the old migration modules themselves, in their order, so the squash
runs the same functions the old chain runs and a change to a trigger is made
in one place. The old modules stay: databases that applied them keep them
(Django marks the squash applied when every migration it replaces is).
"""

import importlib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import cast

from django.db import migrations, models, router
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ModelState, ProjectState, StateApps

from neuroclinic.audit.triggers import columns_as_of


def replayed(
    package: str,
    names: Sequence[str],
    columns_then: Mapping[tuple[str, int], Mapping[str, Collection[str]]] | None = None,
) -> list[Operation]:
    """The RunPython and RunSQL operations of the migrations `package.<name>`, in order.

    `columns_then[(name, index)]` names, for the operation at that index of that
    migration, the tables that had fewer columns then than the squash creates, and
    the columns they had: its trigger installs guard those (`triggers.columns_as_of`).
    """
    operations: list[Operation] = []
    for name in names:
        module = importlib.import_module(f"{package}.{name}")
        for index, operation in enumerate(module.Migration.operations):
            if isinstance(operation, migrations.RunSQL):
                operations.append(operation)
            elif isinstance(operation, migrations.RunPython):
                then = (columns_then or {}).get((name, index))
                code = operation.code if then is None else _as_of(operation.code, then)
                operations.append(
                    LazyAppsRunPython(
                        code,
                        operation.reverse_code,
                        atomic=operation.atomic,
                        hints=operation.hints,
                        elidable=operation.elidable,
                    )
                )
    return operations


def _as_of(
    code: Callable[[StateApps, BaseDatabaseSchemaEditor], None],
    columns: Mapping[str, Collection[str]],
) -> Callable[[StateApps, BaseDatabaseSchemaEditor], None]:
    def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        with columns_as_of(columns):
            code(apps, schema_editor)

    return forwards


class _LazyApps:
    """The historical app registry of a state, rendered when the code first asks for it."""

    def __init__(self, state: ProjectState) -> None:
        self._state = state
        self._apps: StateApps | None = None

    def __getattr__(self, name: str) -> object:
        if self._apps is None:
            # What RunPython does before it passes `state.apps` (the models a
            # delayed operation left stale are rendered again), once.
            self._state.clear_delayed_apps_cache()
            self._apps = self._state.apps
        return getattr(self._apps, name)


class LazyAppsRunPython(migrations.RunPython):
    """RunPython whose `apps` is rendered only if the code uses it.

    Django's RunPython renders every historical model before it calls the code
    (a state that a delayed operation touched, which after contenttypes' first
    migrations is every state, is rendered again each time). Most of the replayed
    operations install triggers from the schema editor and never look at `apps`;
    on a new database those renders were about half of `migrate` (issue 18,
    item 10). Code that does use `apps` gets the same registry Django would pass.
    """

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if router.allow_migrate(
            schema_editor.connection.alias, app_label, **self.hints
        ):
            self.code(cast(StateApps, _LazyApps(from_state)), schema_editor)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if self.reverse_code is None:
            raise NotImplementedError("You cannot reverse this operation")
        if router.allow_migrate(
            schema_editor.connection.alias, app_label, **self.hints
        ):
            self.reverse_code(cast(StateApps, _LazyApps(from_state)), schema_editor)


class CreateModels(Operation):
    """Several CreateModel operations whose models are rendered once, not once each.

    Django re-renders, after each CreateModel, the new model and every model
    related to the ones it points at; here nearly every model is related through
    the organization, the patient or the user, so a new database spent most of
    its migrate re-rendering the same models (docs/decisions.md, ux18f). This
    adds every model's state first and renders them together, then creates the
    tables in the given order (foreign keys to a table created later in the list
    are added at the end, as Django's schema editor defers them).

    Only the new models are rendered when the registry is current; when a delayed
    operation may have left it stale, every model is rendered afresh and the state
    is no longer delayed, so the RunPython operations after it need not render
    again (`neuroclinic/audit/tests/test_squashed.py` checks the registry against a
    render of every model after each of a new database's CreateModels).
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, *operations: migrations.CreateModel) -> None:
        self.operations = list(operations)

    def deconstruct(
        self,
    ) -> tuple[str, list[migrations.CreateModel], dict[str, object]]:
        return self.__class__.__qualname__, self.operations, {}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        added = []
        for operation in self.operations:
            model_state = ModelState(
                app_label,
                operation.name,
                list(operation.fields),
                dict(operation.options),
                tuple(operation.bases or (models.Model,)),
                list(operation.managers or []),
            )
            key = (app_label, model_state.name_lower)
            fresh = key not in state.models
            state.models[key] = model_state
            if getattr(state, "_relations", None) is not None:
                state.resolve_model_relations(key)
            added.append((key, model_state, fresh))
        if "apps" not in state.__dict__:
            # Not rendered: the models are rendered with the rest when first asked for.
            return
        rendered = state.apps
        if not state.is_delayed and all(
            fresh and key[1] not in rendered.all_models[key[0]]
            for key, _, fresh in added
        ):
            # Every model rendered is current (no delayed operation left one
            # pointing at an older class of a model rendered again since), and these
            # are new: render them beside the others. Their foreign keys resolve to
            # the registered models, which take the reverse relations (the
            # registry's caches are cleared after the render), as they would in a
            # render of every model. Nothing else changed, so nothing else is
            # rendered again (ProjectState.add_model re-renders every model related
            # to a new one, here nearly all of them, for each new model).
            rendered.render_multiple([model_state for _, model_state, _ in added])
            return
        # A delayed operation (an AlterField, AlterModelOptions, ...) may have left
        # models pointing at classes since replaced: render every model afresh, as
        # RunPython does for a delayed state before it runs its code; then none is
        # stale, so the RunPython operations that follow (the replayed trigger and
        # data code, and the next migrations') can use this registry as it is.
        del state.__dict__["apps"]
        state.apps  # noqa: B018 - renders the registry
        state.is_delayed = False

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        for operation in self.operations:
            operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        for operation in reversed(self.operations):
            operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Create {len(self.operations)} models"
