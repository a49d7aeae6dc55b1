"""The errors services raise; one DRF handler and one view helper turn them into answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class ItsmError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: Mapping[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})

    def as_dict(self) -> dict:
        body: dict = {"detail": self.message, "code": self.code}
        body.update(self.fields)
        return body


class InvalidInput(ItsmError):
    status = 400
    code = "invalid"


class NotAllowed(ItsmError):
    """The user may read the record but not do this to it."""

    status = 403
    code = "permission_denied"


class NotFound(ItsmError):
    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found."):
        super().__init__(message)


class Conflict(ItsmError):
    status = 409
    code = "conflict"


class TransitionNotAllowed(ItsmError):
    status = 400
    code = "transition_not_allowed"

    def __init__(self, *, action: str, state: str, allowed: Iterable[str]):
        allowed = sorted(allowed)
        super().__init__(
            f"Cannot {action.replace('_', ' ')} a record that is {state.replace('_', ' ')}. "
            + (
                f"From {state} it can: {', '.join(allowed)}."
                if allowed
                else f"Nothing can be done from {state}."
            ),
            fields={"state": [state], "allowed": allowed},
        )
