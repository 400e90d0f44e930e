"""Response schemas of ``/api/v1/types``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TypeColumn(BaseModel):
    """One typed column of a type's view."""

    name: str = Field(description="Column name in the view.")
    type: str = Field(description="BigQuery type: STRING, INT64, FLOAT64, BOOL, TIMESTAMP...")
    pointer: str = Field(description="JSON pointer of the property in data.")
    filterable: bool = Field(
        description="A scalar: GET /api/v1/events?type=T&data.<name>=<value> filters on it."
    )


class TypeVersion(BaseModel):
    """One major version of a type's schema."""

    version: int
    dataschema: str = Field(description="The schema's $id: what producers set in dataschema.")
    view: str = Field(description="The BigQuery view with the typed columns.")
    columns: list[TypeColumn]


class TypeSummary(BaseModel):
    """A registered event type."""

    type: str = Field(examples=["com.bqingest.shop.order.created"])
    current_version: int = Field(description="What events that name no dataschema are checked by.")
    versions: list[TypeVersion]


class TypeList(BaseModel):
    """Every type in the schema registry."""

    types: list[TypeSummary]
