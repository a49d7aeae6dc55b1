"""What the OpenAPI document (``/api/schema/``) says beyond drf-spectacular's defaults.

* Every operation documents the refusals the API gives (400 bad input, 401/403 no credentials
  or not allowed, 404 not readable, 409 conflict), with the body that
  ``itsm.api.errors.exception_handler`` sends.
* A policy serializer's response lists a field as required only if no reader can have it hidden
  (a customer reads an incident without ``priority``, ``resolution_notes``…).
* A string enum whose values would give clashing identifiers in a generated client (the time
  zones ``GMT+0``, ``GMT-0`` and ``GMT0``) carries ``x-enum-varnames``: one distinct name per value.
  Request bodies are JSON only (``PARSER_WHITELIST``), so a generated client sends one content type.

The API fuzz test (``tests/api/test_fuzz.py``) holds every answer to this document.
"""

from __future__ import annotations

import re

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from itsm import policy

ERROR = "Error"
VALIDATION_ERROR = "InvalidInput"

_ERROR_SCHEMA = {
    "type": "object",
    "description": "Why the request was refused. Errors raised by services also carry a `code` "
    "and may name fields, each with a list of messages.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["detail"],
    "additionalProperties": True,
}
_VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "What is wrong with the input: each named field (or `non_field_errors`) with "
    "a list of messages; errors raised by services add `detail` and `code`.",
    "properties": {
        "detail": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "code": {"type": "string"},
    },
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "The input is not valid.",
    "401": "No valid credentials. (Session authentication is tried first, so most operations "
    "answer 403 instead.)",
    "403": "Not allowed to do this, or no valid credentials.",
    "404": "No such record, or not one the user may read.",
    "409": "The request conflicts with the record's current state (a concurrent edit, or the "
    "record is still in use).",
}


class PolicyAutoSchema(AutoSchema):
    """The schema class of the API's viewsets: their operations plus the refusals they give."""

    def _error_ref(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403"]  # 400: bad input, or bad query parameters on any read
        if "{" in self.path or (self.method == "GET" and self._get_paginator()):
            codes.append("404")  # an unreadable record, or a page past the last
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            name, schema = (
                (VALIDATION_ERROR, _VALIDATION_ERROR_SCHEMA) if code == "400" else (ERROR, _ERROR_SCHEMA)
            )
            responses.setdefault(
                code,
                {
                    "content": {"application/json": {"schema": self._error_ref(name, schema)}},
                    "description": _DESCRIPTIONS[code],
                },
            )
        return responses


class SingleObjectAutoSchema(PolicyAutoSchema):
    """For a ``list`` action that answers one object (``/api/v1/me/``), not an array."""

    def _is_list_view(self, serializer=None):
        return False


def maybe_hidden_fields(model) -> frozenset[str]:
    """Fields some reader of ``model`` does not see (the union of its readers' hidden fields)."""
    if not policy.is_declared(model):
        return frozenset()
    return frozenset().union(*(read.hidden for read in policy.rules_for(model).read))


class PolicySerializerExtension(OpenApiSerializerExtension):
    """Maps every ``PolicySerializer``: a request names only the fields listed (the serializer
    refuses any other), an answer requires only fields no reader has hidden, and the base
    class's docstring is not used as every resource's description."""

    target_class = "itsm.api.serializers.PolicySerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if not type(self.target).__dict__.get("__doc__"):
            schema.pop("description", None)
        if direction == "request":
            schema["additionalProperties"] = False  # other names are refused (400)
        if direction == "response" and schema.get("required"):
            hidden = maybe_hidden_fields(self.target.Meta.model)
            required = [name for name in schema["required"] if name not in hidden]
            if required:
                schema["required"] = required
            else:
                del schema["required"]
        return schema


def _variable_name(value: str) -> str:
    """An upper-case identifier for an enum value: ``Etc/GMT+5`` is ``ETC_GMT_PLUS_5``."""
    name = re.sub(r"\+(?=\d)", "_PLUS_", value)
    name = re.sub(r"-(?=\d)", "_MINUS_", name)
    name = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()
    return name if name[:1].isalpha() else f"VALUE_{name}"


def _plain(value: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", value.upper())


def _name_enum_values(node) -> None:
    if isinstance(node, list):
        for item in node:
            _name_enum_values(item)
        return
    if not isinstance(node, dict):
        return
    values = node.get("enum")
    if isinstance(values, list) and "x-enum-varnames" not in node:
        strings = [value for value in values if isinstance(value, str)]
        if len({_plain(value) for value in strings}) < len(strings):
            names: list[str] = []
            for value in strings:
                name = _variable_name(value)
                while name in names:
                    name += "_"
                names.append(name)
            node["x-enum-varnames"] = names
    for child in node.values():
        _name_enum_values(child)


def enum_variable_names(result, generator, request, public):
    """A drf-spectacular postprocessing hook: ``x-enum-varnames`` on every string enum whose
    values differ only in punctuation, so client generators give each value its own name."""
    _name_enum_values(result)
    return result
