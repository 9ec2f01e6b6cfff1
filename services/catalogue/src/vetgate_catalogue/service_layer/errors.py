"""What the service layer refuses, in terms the HTTP layer maps one to one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class CatalogueError(Exception):
    """A refusal with an HTTP status and an ``{"error", "error_description"}`` body."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def not_found(what: str) -> CatalogueError:
    return CatalogueError(404, "not_found", f"{what} not found")


class FieldErrors(Exception):
    """422 naming the fields, in the shape FastAPI uses for body validation (``detail[].loc``)."""

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        super().__init__("invalid fields")
        self.errors = list(errors)

    @classmethod
    def one(cls, loc: Sequence[str | int], message: str) -> FieldErrors:
        return cls([{"type": "value_error", "loc": ["body", *loc], "msg": message}])
