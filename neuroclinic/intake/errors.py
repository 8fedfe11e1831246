"""What intake actions raise when they refuse: a message for the person and the field at fault."""

from neuroclinic.patients.models import Patient


class IntakeError(Exception):
    """A refused request, with a message for the person who made it and the field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class SignInLinkInvalid(IntakeError):
    pass


class DuplicatesFound(IntakeError):
    def __init__(self, duplicates: list[Patient]) -> None:
        super().__init__(
            "Possible duplicates found: link the request to one of them, or confirm a new patient.",
            field="confirm_new",
        )
        self.duplicates = duplicates
