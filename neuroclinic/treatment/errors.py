"""The one exception treatment actions raise for refused input."""


class TreatmentError(Exception):
    """A refused request, with a message for the person who made it and the field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
