"""System checks for running more than one process: schedule entries resolve, shared state is shared."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.tasks import Task
from django.utils.module_loading import import_string

from neuroclinic.operations.schedule import PERIODIC_JOBS, RETRY_POLICIES

PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register()
def schedule_names_tasks(**kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    names = [job.name for job in PERIODIC_JOBS]
    if len(names) != len(set(names)):
        problems.append(Error("Two periodic jobs share a name.", id="operations.E001"))
    for path in [job.task for job in PERIODIC_JOBS] + list(RETRY_POLICIES):
        try:
            found = import_string(path)
        except ImportError:
            found = None
        if not isinstance(found, Task):
            problems.append(
                Error(
                    f"{path} is not a task (decorate it with @task).",
                    id="operations.E002",
                )
            )
    return problems


@register()
def shared_state_is_shared(**kwargs: Any) -> list[CheckMessage]:
    """The default cache decides rate limits; in one process's memory, each web worker would decide alone."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if not settings.DEBUG and backend in PROCESS_LOCAL_CACHES:
        return [
            Warning(
                f"The default cache is {backend.rsplit('.', 1)[-1]}: each web process keeps its "
                "own, so rate limits and anything else decided through it differ between processes "
                "and servers. Use the database cache (the default) or Redis.",
                id="operations.W001",
            )
        ]
    return []
