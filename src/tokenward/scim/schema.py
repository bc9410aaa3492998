"""What the SCIM service publishes: the User resource with Tokenward's role extension, and its
capabilities. The models come from scim2-models; only the extension is ours."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Extension,
    Filter,
    Patch,
    ResourceType,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models.urn import URN

__all__ = [
    "EXTENSION_URN",
    "MAX_RESULTS",
    "ROLES",
    "ScimUserModel",
    "TokenwardUser",
    "resource_types",
    "schemas",
    "service_provider_config",
]

EXTENSION_URN = "urn:ietf:params:scim:schemas:extension:tokenward:2.0:User"
MAX_RESULTS = 100
# The roles an identity provider may give; owners are made only by owners, by hand.
ROLES = ("member", "manager")


class TokenwardUser(Extension):
    """The member's role in the organization."""

    __schema__ = URN(EXTENSION_URN)

    role: Annotated[str | None, Field(examples=list(ROLES))] = None
    """The role in the organization: "member" (the default) or "manager"."""


ScimUserModel = User[TokenwardUser]


def service_provider_config(location: str) -> dict[str, Any]:
    config = ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Organization token",
                description="An organization token with the member:admin scope, sent as "
                "'Authorization: Bearer two_…'.",
                primary=True,
            )
        ],
    )
    body = config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    body["meta"] = {"resourceType": "ServiceProviderConfig", "location": location}
    return body


def schemas(base: str) -> list[dict[str, Any]]:
    published = []
    for model in (User, TokenwardUser):
        schema = model.to_schema().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        schema["meta"] = {"resourceType": "Schema", "location": f"{base}/Schemas/{schema['id']}"}
        published.append(schema)
    return published


def resource_types(base: str) -> list[dict[str, Any]]:
    user_type = ResourceType.from_resource(ScimUserModel)
    body = user_type.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    body["meta"] = {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/User"}
    return [body]
