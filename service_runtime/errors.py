"""Errors that domain code raises and every gateway turns into the same problem+json status."""


class DomainError(Exception):
    """A rule of the business refused the request; the message says which and why."""

    status = 422

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(message)
        self.fields = fields  # extra members of the problem body (e.g. which lines were refused)


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The request does not fit the current state (e.g. paying a cancelled order)."""

    status = 409


class Forbidden(DomainError):
    status = 403
