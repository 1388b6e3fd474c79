"""How the API documents a body whose fields are the domain's.

A request body the use cases take as it is (a booking order, a service draft, the business's settings) is a
domain model: its fields, types, constraints and validators are the domain's rules, and it carries no
API documentation. The API declares it as a subclass that adds only the documentation, the way this:

    class ServiceDraft(catalogue.ServiceDraft):
        model_config = ConfigDict(json_schema_extra=Documentation({"payment": "what a customer pays ..."}))

        def to_domain(self) -> catalogue.ServiceDraft:
            return as_domain(self, catalogue.ServiceDraft)

Its docstring, if any, is the schema's description (a class's docstring is not inherited: each body
says its own). `Documentation` writes each field's description (and the examples) into the model's JSON
schema, the one Powertools puts in the OpenAPI document, exactly where `Field(description=...)` would. A
field is declared again only where it holds another documented body (`customer: CustomerDetails`), so
that the document refers to the documented one; fields are named as in the schema (by alias). The route
hands the use case the domain's own model (`body.to_domain()`), never the subclass: nothing of the API's
reaches what the domain stores or compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.config import JsonDict

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Documentation:
    """A model's field descriptions and examples, as its `json_schema_extra`."""

    fields: Mapping[str, str] = field(default_factory=dict)
    examples: list[JsonDict] | None = None

    def __call__(self, schema: JsonDict, model: type[Any]) -> None:
        properties = schema["properties"]
        assert isinstance(properties, dict)
        for name, description in self.fields.items():
            documented = properties[name]  # a KeyError names a documented field the model no longer has
            assert isinstance(documented, dict)
            documented["description"] = description
        if self.examples is not None:
            schema["examples"] = list(self.examples)

    def extended(self, fields: Mapping[str, str]) -> Documentation:
        """This documentation and more fields' (a body that extends another)."""
        return Documentation({**self.fields, **fields}, self.examples)


def as_domain(body: BaseModel, model: type[ModelT]) -> ModelT:
    """The domain's own `model` of a request body that documents it (a subclass): validated again from the
    body's data, so that what the use case keeps (a customer's details on their booking) is the domain's."""
    return model.model_validate(body.model_dump(by_alias=True))
