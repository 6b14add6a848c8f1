"""The error users see for bad input: one message naming the place (file, row, field) and what
was expected. Services raise it; views, the API and the CLI show it."""


class InputError(ValueError):
    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        self.errors = errors or [message]
        super().__init__(message if not errors else "\n".join(errors))


class PermissionDenied(PermissionError):
    """The user's role or org-unit scope does not allow this."""
