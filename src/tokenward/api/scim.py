"""SCIM 2.0 under ``/api/0/organizations/{org}/scim/v2/`` for the organization's identity provider.

Every route passes the organization gate like any organization route, for the organization's own
tokens with ``member:admin``; answers and refusals take SCIM's shape (``scim.answers``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    ListResponse,
    NotFoundException,
    NotImplementedException,
    PatchOp,
    ResponseParameters,
    SCIMException,
)

from tokenward.actions.scim_users import (
    ScimRecord,
    create_scim_user,
    delete_scim_user,
    find_scim_user,
    list_scim_users,
    replace_scim_user,
)
from tokenward.auth.access import organization_access
from tokenward.auth.organization_context import OrganizationContext
from tokenward.http.links import link_base
from tokenward.scim.answers import ScimRoute, scim_error, scim_response
from tokenward.scim.parsing import (
    integer_parameter,
    json_body,
    parsed_filter,
    response_parameters,
    validated,
)
from tokenward.scim.schema import (
    EXTENSION_URN,
    MAX_RESULTS,
    ScimUserModel,
    resource_types,
    schemas,
    service_provider_config,
)

_CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
_LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

# SCIM describes itself (Schemas, ResourceTypes, ServiceProviderConfig), not in OpenAPI.
router = APIRouter(
    prefix="/api/0/organizations/{org}/scim/v2",
    tags=["scim"],
    route_class=ScimRoute,
    include_in_schema=False,
)
_ADMIN = "member:admin"


# The access of every SCIM route: the organization's own token, with ``member:admin``.
IdentityProvider = Annotated[
    OrganizationContext, organization_access(_ADMIN, organization_token_only=True)
]


def _base(request: Request, context: OrganizationContext) -> str:
    return f"{link_base(request)}/api/0/organizations/{context.organization.slug}/scim/v2"


def _resource(record: ScimRecord, base: str) -> ScimUserModel:
    """The stored attributes, with what lives in the account, membership and record on top."""
    scim_user, user = record.scim_user, record.user
    kept = scim_user.attributes
    body: dict[str, Any] = {
        **kept,
        "schemas": [_CORE_USER],
        "id": str(scim_user.id),
        "userName": user.email,
        "meta": {
            "resourceType": "User",
            "created": scim_user.created_at.isoformat(),
            "lastModified": scim_user.updated_at.isoformat(),
            "location": f"{base}/Users/{scim_user.id}",
        },
    }
    if scim_user.external_id is not None:
        body["externalId"] = scim_user.external_id
    # Shown when the identity provider manages them; their values are the membership's.
    if "active" in kept:
        body["active"] = record.membership is not None
    if isinstance(kept.get(EXTENSION_URN), dict) and kept[EXTENSION_URN].get("role") is not None:
        body[EXTENSION_URN] = {"role": record.role}
        body["schemas"].append(EXTENSION_URN)
    else:
        body.pop(EXTENSION_URN, None)
    resource: ScimUserModel = ScimUserModel.model_validate(
        body, scim_ctx=Context.RESOURCE_QUERY_RESPONSE
    )
    return resource


def _user_response(
    record: ScimRecord,
    base: str,
    context: Context,
    status: int = 200,
    parameters: ResponseParameters[Any] | None = None,
) -> Response:
    resource = _resource(record, base)
    body = resource.model_dump(scim_ctx=context, response_parameters=parameters)
    return scim_response(body, status, {"Location": f"{base}/Users/{record.scim_user.id}"})


@router.get("/ServiceProviderConfig")
async def get_service_provider_config(request: Request, context: IdentityProvider) -> Response:
    base = _base(request, context)
    return scim_response(service_provider_config(f"{base}/ServiceProviderConfig"))


def _list_body(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [_LIST],
        "totalResults": len(resources),
        "startIndex": 1,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


@router.get("/ResourceTypes")
async def list_resource_types(request: Request, context: IdentityProvider) -> Response:
    return scim_response(_list_body(resource_types(_base(request, context))))


@router.get("/ResourceTypes/{name}")
async def get_resource_type(request: Request, name: str, context: IdentityProvider) -> Response:
    for found in resource_types(_base(request, context)):
        if found["id"] == name:
            return scim_response(found)
    raise NotFoundException(detail=f"No resource type {name!r}.")


@router.get("/Schemas")
async def list_schemas(request: Request, context: IdentityProvider) -> Response:
    return scim_response(_list_body(schemas(_base(request, context))))


@router.get("/Schemas/{schema_id}")
async def get_schema(request: Request, schema_id: str, context: IdentityProvider) -> Response:
    for found in schemas(_base(request, context)):
        if found["id"] == schema_id:
            return scim_response(found)
    raise NotFoundException(detail=f"No schema {schema_id!r}.")


@router.get("/Users")
async def list_users(request: Request, context: IdentityProvider) -> Response:
    user_name, external_id = parsed_filter(request.query_params.get("filter"))
    start_index = max(1, integer_parameter(request, "startIndex", 1))
    count = min(MAX_RESULTS, max(0, integer_parameter(request, "count", MAX_RESULTS)))
    parameters = response_parameters(request)
    total, records = await list_scim_users(
        context,
        user_name=user_name,
        external_id=external_id,
        start_index=start_index,
        count=count,
    )
    base = _base(request, context)
    listed: ListResponse[ScimUserModel] = ListResponse[ScimUserModel](
        total_results=total,
        start_index=start_index,
        items_per_page=len(records),
        resources=[_resource(record, base) for record in records],
    )
    body = listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=parameters)
    return scim_response(body)


@router.post("/Users")
async def create_user(request: Request, context: IdentityProvider) -> Response:
    payload = await json_body(request)
    resource = validated(ScimUserModel, payload, Context.RESOURCE_CREATION_REQUEST)
    record = await create_scim_user(context, resource)
    return _user_response(
        record, _base(request, context), Context.RESOURCE_CREATION_RESPONSE, status=201
    )


@router.get("/Users/{scim_id}")
async def get_user(request: Request, scim_id: str, context: IdentityProvider) -> Response:
    parameters = response_parameters(request)
    record = await find_scim_user(context, scim_id)
    return _user_response(
        record, _base(request, context), Context.RESOURCE_QUERY_RESPONSE, parameters=parameters
    )


@router.put("/Users/{scim_id}")
async def replace_user(request: Request, scim_id: str, context: IdentityProvider) -> Response:
    payload = await json_body(request)
    resource = validated(ScimUserModel, payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    record = await replace_scim_user(context, scim_id, resource)
    return _user_response(record, _base(request, context), Context.RESOURCE_REPLACEMENT_RESPONSE)


@router.patch("/Users/{scim_id}")
async def patch_user(request: Request, scim_id: str, context: IdentityProvider) -> Response:
    payload = await json_body(request)
    operations = validated(PatchOp[ScimUserModel], payload, Context.RESOURCE_PATCH_REQUEST)
    base = _base(request, context)
    current = _resource(await find_scim_user(context, scim_id), base)
    try:
        operations.patch(current)
    except ValidationError as error:
        errors = Error.from_validation_errors(error.errors())
        raise SCIMException.from_error(errors[0]) from None
    # What the patch made must still be a valid User, as a PUT of it would have to be.
    patched = current.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    resource = validated(ScimUserModel, patched, Context.RESOURCE_REPLACEMENT_REQUEST)
    record = await replace_scim_user(context, scim_id, resource)
    return _user_response(record, base, Context.RESOURCE_PATCH_RESPONSE)


@router.delete("/Users/{scim_id}")
async def delete_user(scim_id: str, context: IdentityProvider) -> Response:
    await delete_scim_user(context, scim_id)
    return Response(status_code=204)


@router.post("/.search")
@router.post("/Users/.search")
async def search(context: IdentityProvider) -> Response:
    raise NotImplementedException(detail="Searching with POST is not supported; use GET.")


# Paths served above and the methods they take, to answer others with 405 rather than 404.
_SERVED = (
    (re.compile(r"^(ServiceProviderConfig|ResourceTypes(/[^/]+)?|Schemas(/[^/]+)?)$"), "GET"),
    (re.compile(r"^Users$"), "GET, POST"),
    (re.compile(r"^Users/[^/]+$"), "DELETE, GET, PATCH, PUT"),
)


@router.api_route(
    "/{anything:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unknown(anything: str, context: IdentityProvider) -> Response:
    for pattern, allowed in _SERVED:
        if pattern.match(anything):
            response = scim_error(405, f"This endpoint takes {allowed} only.")
            response.headers["Allow"] = allowed
            return response
    raise NotFoundException(detail="No such SCIM endpoint here.")
