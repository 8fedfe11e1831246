"""The one exception TMS actions raise for refused input."""

from neuroclinic.api_errors import FieldErrors


class TmsError(FieldErrors):
    """A refused request: nothing was written. `errors` maps fields to messages.

    Views show the messages on the form (or at its top for "__all__"); the API
    answers 422 with a problem document naming the fields: a FieldErrors, so the
    API's one handler for those answers it and no endpoint needs to translate it.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str = "__all__",
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(errors or {field: [message]})
        self.args = (message,)
        self.message = message
        self.field = field
