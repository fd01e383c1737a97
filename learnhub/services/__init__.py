"""Use cases that are not HTTP: they take and return models and values, and never touch the request."""


class ServiceError(Exception):
    """A rule was broken; the message is safe to show to the user (in Chinese)."""


class FieldError(ServiceError):
    """A rule about one field of a form was broken: the page shows the message beside that field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
