"""Scenario: resource groups and ARM's common answers, driven by azure-mgmt-resource and
azure-core (what Azure returns: 201 then 200 on create, the group on get and in the list, a
long-running delete after which get is 404 ResourceGroupNotFound), plus the error codes clients
key on: MissingApiVersionParameter (400) without an api-version, NoRegisteredProviderFound (400)
for an unknown Microsoft.DigitalTwins api-version, InvalidResourceType (404) for an unknown
Microsoft.Authorization one, InvalidApiVersionParameter (400) for resource groups, and
AuthenticationFailed (401) without a token.
"""

from azure.core import PipelineClient
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.resource import ResourceManagementClient

from common import SUBSCRIPTION, URL, Recorder, arm_kwargs, check, credential

recorder = Recorder()
client = ResourceManagementClient(credential(), SUBSCRIPTION, **arm_kwargs(recorder))

group = client.resource_groups.create_or_update("sdk-rg", {"location": "westus2", "tags": {"suite": "sdk"}})
check(group.name == "sdk-rg" and group.location == "westus2", "group create returns the group")
check(group.properties.provisioning_state == "Succeeded", "group create is Succeeded")
again = client.resource_groups.create_or_update("sdk-rg", {"location": "westus2"})
puts = [e[2] for e in recorder.find("PUT", "/resourcegroups/sdk-rg")]
check(puts == [201, 200], f"group PUT answers 201 then 200 (got {puts})")
got = client.resource_groups.get("sdk-rg")
check(got.id == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/sdk-rg", f"group id is ARM's ({got.id})")
check(client.resource_groups.check_existence("sdk-rg"), "HEAD finds the group")
names = [g.name for g in client.resource_groups.list()]
check("sdk-rg" in names, f"group list has the group ({names})")
client.resource_groups.begin_delete("sdk-rg").result()
deletes = [e[2] for e in recorder.find("DELETE", "/resourcegroups/sdk-rg")]
check(deletes == [202], f"group DELETE answers 202 (got {deletes})")
try:
    client.resource_groups.get("sdk-rg")
    check(False, "get after delete raises")
except ResourceNotFoundError as e:
    check(e.error.code == "ResourceGroupNotFound", f"get after delete is ResourceGroupNotFound ({e.error.code})")
check(not client.resource_groups.check_existence("sdk-rg"), "HEAD after delete is 404")

# The error codes of ARM itself, through the SDK pipeline (token and all) with raw requests.
client.resource_groups.create_or_update("codes-rg", {"location": "westus2"})


def status_and_code(path):
    resp = client._client.send_request(HttpRequest("GET", URL + path))
    try:
        return resp.status_code, resp.json()["error"]["code"]
    except Exception:
        return resp.status_code, None


sub = f"/subscriptions/{SUBSCRIPTION}"
got = status_and_code(f"{sub}/resourcegroups/codes-rg")
check(got == (400, "MissingApiVersionParameter"), f"no api-version: 400 MissingApiVersionParameter ({got})")
got = status_and_code(
    f"{sub}/resourceGroups/codes-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/x?api-version=2099-01-01"
)
check(got == (400, "NoRegisteredProviderFound"), f"unknown Digital Twins api-version: NoRegisteredProviderFound ({got})")
got = status_and_code(f"{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2099-01-01")
check(got == (404, "InvalidResourceType"), f"unknown Authorization api-version: 404 InvalidResourceType ({got})")
got = status_and_code(f"{sub}/resourcegroups/codes-rg?api-version=2099-01-01")
check(got == (400, "InvalidApiVersionParameter"), f"unknown resource-group api-version: InvalidApiVersionParameter ({got})")

bare = PipelineClient(base_url=URL)
resp = bare.send_request(HttpRequest("GET", f"{URL}{sub}/resourcegroups?api-version=2025-04-01"))
code = resp.json().get("error", {}).get("code")
check((resp.status_code, code) == (401, "AuthenticationFailed"), f"no token: 401 AuthenticationFailed ({resp.status_code}, {code})")
check("authorization_uri" in resp.headers.get("WWW-Authenticate", ""), "the 401 names the authority in WWW-Authenticate")
try:
    client.resource_groups.get("no-such-rg")
except HttpResponseError as e:
    check(e.status_code == 404 and e.error.code == "ResourceGroupNotFound", "a missing group is 404 ResourceGroupNotFound")
