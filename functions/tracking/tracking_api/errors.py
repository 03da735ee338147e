"""Errors the domain raises; the handler maps each kind to one HTTP answer in one place."""


class InvalidRequest(ValueError):
    """The client sent something we refuse (answered with 400 and this message)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StorageError(RuntimeError):
    """The table could not serve a request that was valid (answered with a bare 500)."""


class Refused(Exception):
    """A well-formed request the API declines as things stand (answered with status_code and this message)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
