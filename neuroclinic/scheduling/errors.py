"""The one exception scheduling actions raise for refused input."""


class SchedulingError(Exception):
    """A refused request: nothing was written. `errors` maps fields to messages.

    Views show the messages on the form; the API answers 422 with a problem
    document naming the fields. `reasons` lists every refusal the rules found
    (rules.Refusal codes and messages), for pages that explain a refusal.
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
