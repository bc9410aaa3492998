"""Bodies of the leaked-token endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = ["LeakVerdictOut", "LeakedTokenReport", "UserLeakVerdictOut", "inline_body_schema"]

Label = Literal["true_positive", "false_positive"]


class LeakedTokenReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=1, max_length=1000)] = Field(
        description="The string found, as found. Any string: nothing tells whose it is."
    )
    url: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, description="Where it was found; passed on to the people told."
    )


class LeakVerdictOut(BaseModel):
    token_hash: str = Field(description="SHA-256 (hex) of the reported string.")
    token_type: str
    label: Label


class UserLeakVerdictOut(BaseModel):
    token_hash: str = Field(description="SHA-256 (hex) of the reported string.")
    label: Label = Field(
        description="true_positive when the string is a Tokenward token (now revoked, whether "
        "or not it already was); false_positive otherwise."
    )


def inline_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a JSON body described in place (no shared component needed)."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
