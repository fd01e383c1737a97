"""Use cases that are not HTTP: they take and return models and values, and never touch the request."""


class ServiceError(Exception):
    """A rule was broken; the message is safe to show to the user (in Chinese)."""
