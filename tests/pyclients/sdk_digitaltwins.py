"""Scenario: an Azure Digital Twins instance through azure-mgmt-digitaltwins, as the 2023-01-31
spec describes it: the global name check, create (201 Provisioning + Azure-AsyncOperation; the
poller ends Succeeded with a host name), the system-assigned identity and publicNetworkAccess
options, get and both lists, update (a long-running PATCH: 202 Updating with Azure-AsyncOperation,
then Succeeded), delete (202, then 404), and a delete under a missing resource group (404
ResourceGroupNotFound, not 204).
"""

import time

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.digitaltwins import AzureDigitalTwinsManagementClient
from azure.mgmt.digitaltwins.models import (
    CheckNameRequest,
    DigitalTwinsDescription,
    DigitalTwinsIdentity,
    DigitalTwinsPatchDescription,
    DigitalTwinsPatchProperties,
)
from azure.mgmt.resource import ResourceManagementClient

from common import SUBSCRIPTION, URL, Recorder, arm_kwargs, check, credential

cred = credential()
ResourceManagementClient(cred, SUBSCRIPTION, **arm_kwargs()).resource_groups.create_or_update(
    "adt-rg", {"location": "westus2"}
)
recorder = Recorder()
client = AzureDigitalTwinsManagementClient(cred, SUBSCRIPTION, **arm_kwargs(recorder))
dt = client.digital_twins

name = "sdk-twins-1"
free = dt.check_name_availability("westus2", CheckNameRequest(name=name))
check(free.name_available is True, "check-name: a fresh name is available")
bad = dt.check_name_availability("westus2", CheckNameRequest(name="-bad-"))
check(bad.name_available is False and bad.reason == "Invalid", f"check-name: an invalid name is Invalid ({bad.reason})")

poller = dt.begin_create_or_update(
    "adt-rg",
    name,
    DigitalTwinsDescription(
        location="westus2",
        tags={"suite": "sdk"},
        identity=DigitalTwinsIdentity(type="SystemAssigned"),
        public_network_access="Disabled",
    ),
)
created = poller.result()
put = recorder.find("PUT", f"/digitalTwinsInstances/{name}")[0]
check(put[2] == 201, f"create answers 201 ({put[2]})")
check("azure-asyncoperation" in {k.lower() for k in put[3]}, "create sends Azure-AsyncOperation")
check(created.provisioning_state == "Succeeded", f"the create poller ends Succeeded ({created.provisioning_state})")
check(bool(created.host_name), f"the instance has a host name ({created.host_name})")
check(created.identity is not None and bool(created.identity.principal_id), "the system-assigned identity has a principal id")
check(created.public_network_access == "Disabled", "publicNetworkAccess is kept")
taken = dt.check_name_availability("westus2", CheckNameRequest(name=name))
check(taken.name_available is False and taken.reason == "AlreadyExists", "check-name: a used name is AlreadyExists")

got = dt.get("adt-rg", name)
check(got.id.lower() == created.id.lower() and got.tags == {"suite": "sdk"}, "get returns the instance")
check(name in [d.name for d in dt.list_by_resource_group("adt-rg")], "the group's list has the instance")
check(name in [d.name for d in dt.list()], "the subscription's list has the instance")

updated = dt.begin_update(
    "adt-rg",
    name,
    DigitalTwinsPatchDescription(tags={"suite": "sdk", "step": "update"}, properties=DigitalTwinsPatchProperties(public_network_access="Enabled")),
).result()
patch = recorder.find("PATCH", f"/digitalTwinsInstances/{name}")
check(len(patch) == 1 and patch[0][2] == 202, f"PATCH answers 202 as the spec's long-running update ({[p[2] for p in patch]})")
check("azure-asyncoperation" in {k.lower() for k in patch[0][3]}, "the 202 sends Azure-AsyncOperation")
check(updated.provisioning_state == "Succeeded", f"the update poller ends Succeeded ({updated.provisioning_state})")
check(updated.tags == {"suite": "sdk", "step": "update"} and updated.public_network_access == "Enabled", "the update is applied")
# The 202's body, which the SDK's poller streams past: the same PATCH through its pipeline.
raw = client._client.send_request(
    HttpRequest("PATCH", f"{URL}{created.id}?api-version=2023-01-31", json={"tags": {"suite": "sdk"}})
)
check(raw.status_code == 202, f"a raw PATCH is 202 ({raw.status_code})")
check(raw.json()["properties"]["provisioningState"] == "Updating", f"the 202 body is Updating ({raw.json()['properties']['provisioningState']})")
check(raw.headers.get("Azure-AsyncOperation", "").count("/operationStatuses/") == 1, "the 202 points at an operationStatuses URL")
try:
    dt.begin_update("adt-rg", name, DigitalTwinsPatchDescription(tags={"x": "y"}))
    check(False, "a second PATCH while Updating is refused")
except ResourceExistsError as e:
    check(e.error.code == "AnotherOperationInProgress", f"a second PATCH while Updating is 409 AnotherOperationInProgress ({e.error.code})")
status_url = raw.headers["Azure-AsyncOperation"]
while True:  # poll as a client does, honouring Retry-After
    status = client._client.send_request(HttpRequest("GET", status_url))
    check(status.status_code == 200, "the operation status answers 200")
    if status.json()["status"] != "InProgress":
        break
    time.sleep(int(status.headers.get("Retry-After", "1")))
check(status.json()["status"] == "Succeeded", f"the PATCH operation ends Succeeded ({status.json()})")

dt.begin_delete("adt-rg", name).result()
deletes = [e[2] for e in recorder.find("DELETE", f"/digitalTwinsInstances/{name}")]
check(deletes == [202], f"delete answers 202 ({deletes})")
try:
    dt.get("adt-rg", name)
    check(False, "get after delete raises")
except ResourceNotFoundError as e:
    check(e.error.code == "ResourceNotFound", f"get after delete is ResourceNotFound ({e.error.code})")

try:
    dt.begin_delete("no-such-rg", name).result()
    check(False, "delete under a missing resource group raises")
except ResourceNotFoundError as e:
    check(e.status_code == 404 and e.error.code == "ResourceGroupNotFound", f"delete under a missing group: 404 ResourceGroupNotFound ({e.error.code})")
