"""Say in the OpenAPI document what the service enforces: no unknown fields.

Every request body is checked by :mod:`service.api.strict_body`, which refuses a field its
struct does not define (400), and every response is one of our msgspec structs, so no object of
ours carries members beyond its properties. Litestar's struct schemas leave
``additionalProperties`` unset, which tells clients (and schemathesis) that extra members are
fine; this plugin, listed before Litestar's own, writes ``additionalProperties: false`` on
each struct's schema. Free-form objects (``hf_config``, ``prices``) are dicts, not structs, and
stay open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's msgspec struct schema, with ``additionalProperties: false``."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
