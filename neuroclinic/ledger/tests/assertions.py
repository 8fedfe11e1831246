"""What every ledger refusal must hold to: the right code and field, and nothing written."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from neuroclinic.audit.models import AuditEvent
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import LedgerEntry


@contextmanager
def refused(code: str, field: str | None = None) -> Iterator[None]:
    """The block must raise LedgerError with this code, and write no entry and no event."""
    entries, events = LedgerEntry.objects.count(), AuditEvent.objects.count()
    with pytest.raises(LedgerError) as caught:
        yield
    assert caught.value.code == code, caught.value.message
    if field is not None:
        assert caught.value.field == field
    assert caught.value.message
    assert LedgerEntry.objects.count() == entries
    assert AuditEvent.objects.count() == events
