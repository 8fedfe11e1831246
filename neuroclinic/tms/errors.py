"""The one exception TMS actions raise for refused input."""


class TmsError(Exception):
    """A refused request: nothing was written. `errors` maps fields to messages.

    Views show the messages on the form (or at its top for "__all__"); the API
    answers 422 with a problem document naming the fields.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str = "__all__",
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or {field: [message]}
