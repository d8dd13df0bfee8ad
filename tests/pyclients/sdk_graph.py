"""Scenario: Microsoft Graph v1.0 through msgraph-sdk (kiota, httpx), with the Graph endpoint and
token audience the emulator's /metadata/endpoints announces (the emulator's own URL, as
`https://graph.microsoft.us/` is US Government's): the user by UPN, an application create (201,
distinct id and appId), the upsert by uniqueName with `Prefer: create-if-missing` (201 with the
object, then 204 with none), a service principal create and its duplicate (409
Request_MultipleObjectsWithSameKeyValue), directoryObjects/getByIds, and deletes (then 404).
"""

import asyncio
import uuid

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.directory_objects.get_by_ids.get_by_ids_post_request_body import GetByIdsPostRequestBody
from msgraph.generated.models.application import Application
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.service_principal import ServicePrincipal

from common import GRAPH_SCOPE, URL, USER_ID, USER_UPN, check, credential


async def main():
    client = GraphServiceClient(credentials=credential(), scopes=[GRAPH_SCOPE])
    client.request_adapter.base_url = f"{URL}/v1.0"

    user = await client.users.by_user_id(USER_UPN).get()
    check(user.id == USER_ID and user.user_principal_name == USER_UPN, f"user by UPN ({user.id})")

    app = await client.applications.post(Application(display_name="sdk-graph-app"))
    check(bool(app.id) and bool(app.app_id) and app.id != app.app_id, "application create gives distinct id and appId")

    unique = f"sdk-unique-{uuid.uuid4().hex[:8]}"
    upsert = RequestConfiguration()
    upsert.headers.add("Prefer", "create-if-missing")
    builder = client.applications_with_unique_name(unique)
    first = await builder.patch(Application(display_name="sdk-upsert"), request_configuration=upsert)
    check(first is not None and first.unique_name == unique, "upsert by uniqueName creates (201 with the object)")
    second = await builder.patch(Application(display_name="sdk-upsert-2"), request_configuration=upsert)
    check(second is None, "the second upsert updates (204, no body)")
    again = await builder.get()
    check(again.id == first.id and again.display_name == "sdk-upsert-2", "the upsert updated the same object")

    sp = await client.service_principals.post(ServicePrincipal(app_id=app.app_id))
    check(sp.app_id == app.app_id and bool(sp.id), "service principal create")
    try:
        await client.service_principals.post(ServicePrincipal(app_id=app.app_id))
        check(False, "a duplicate service principal is refused")
    except ODataError as e:
        code = e.error.code if e.error else None
        check(e.response_status_code == 409, f"duplicate service principal: 409 ({e.response_status_code}, {code})")
        check(code == "Request_MultipleObjectsWithSameKeyValue", f"duplicate service principal code ({code})")

    body = GetByIdsPostRequestBody(ids=[USER_ID, sp.id, str(uuid.uuid4())], types=["user", "servicePrincipal"])
    found = await client.directory_objects.get_by_ids.post(body)
    ids = sorted(o.id for o in found.value)
    check(ids == sorted([USER_ID, sp.id]), f"getByIds returns the known objects and skips unknown ids ({ids})")
    users_only = await client.directory_objects.get_by_ids.post(GetByIdsPostRequestBody(ids=[USER_ID, sp.id], types=["user"]))
    check([o.id for o in users_only.value] == [USER_ID], "getByIds filters by types")

    await client.service_principals.by_service_principal_id(sp.id).delete()
    await client.applications.by_application_id(app.id).delete()
    await client.applications.by_application_id(first.id).delete()
    try:
        await client.applications.by_application_id(app.id).get()
        check(False, "get after delete raises")
    except ODataError as e:
        check(e.response_status_code == 404, f"get after delete is 404 ({e.response_status_code})")


asyncio.run(main())
