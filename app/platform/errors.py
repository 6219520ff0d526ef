"""Domain errors: raised by services, shown by views as a translated message and a 4xx."""


class DomainError(Exception):
    """A rule was broken; `message` is a translatable text for the person who acted."""

    status_code = 400
    code = "invalid"

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class ValidationError(DomainError):
    code = "validation"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"
