"""Scenario: managed identities and endpoints of an Azure Digital Twins instance through
azure-mgmt-msi and azure-mgmt-digitaltwins: a user-assigned identity (read-only principal and
client ids, kept across updates), an instance with both identities (each user-assigned entry
carries the identity's ids), an instance naming a missing identity (400
FailedIdentityOperation), an identity-based Service Bus endpoint that uses the user-assigned
identity (the create poller ends Succeeded), the endpoint list, and an endpoint naming an
identity the instance does not have (400).
"""

from azure.core.exceptions import HttpResponseError
from azure.mgmt.digitaltwins import AzureDigitalTwinsManagementClient
from azure.mgmt.digitaltwins.models import (
    DigitalTwinsDescription,
    DigitalTwinsEndpointResource,
    DigitalTwinsIdentity,
    ManagedIdentityReference,
    ServiceBus,
    UserAssignedIdentity,
)
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource import ResourceManagementClient

from common import SUBSCRIPTION, arm_kwargs, check, credential

cred = credential()
ResourceManagementClient(cred, SUBSCRIPTION, **arm_kwargs()).resource_groups.create_or_update(
    "mi-rg", {"location": "westus2"}
)
msi = ManagedServiceIdentityClient(cred, SUBSCRIPTION, **arm_kwargs())
made = msi.user_assigned_identities.create_or_update("mi-rg", "twins-id", {"location": "westus2"})
check(bool(made.principal_id) and bool(made.client_id), "a user-assigned identity gets principal and client ids")
again = msi.user_assigned_identities.create_or_update("mi-rg", "twins-id", {"location": "westus2", "tags": {"a": "b"}})
check(again.principal_id == made.principal_id, "its ids stay across an update")
got = msi.user_assigned_identities.get("mi-rg", "twins-id")
check(got.client_id == made.client_id, "get returns the identity")

client = AzureDigitalTwinsManagementClient(cred, SUBSCRIPTION, **arm_kwargs())
missing = made.id.replace("twins-id", "nowhere")
try:
    client.digital_twins.begin_create_or_update(
        "mi-rg",
        "sdk-mi-missing",
        DigitalTwinsDescription(
            location="westus2",
            identity=DigitalTwinsIdentity(type="UserAssigned", user_assigned_identities={missing: UserAssignedIdentity()}),
        ),
    ).result()
    check(False, "an instance naming a missing identity is refused")
except HttpResponseError as e:
    check(e.status_code == 400 and e.error.code == "FailedIdentityOperation", f"a missing identity is 400 FailedIdentityOperation ({e.error.code})")

dt = client.digital_twins.begin_create_or_update(
    "mi-rg",
    "sdk-mi-twins",
    DigitalTwinsDescription(
        location="westus2",
        identity=DigitalTwinsIdentity(
            type="SystemAssigned,UserAssigned", user_assigned_identities={made.id: UserAssignedIdentity()}
        ),
    ),
).result()
check(dt.identity.type == "SystemAssigned,UserAssigned" and bool(dt.identity.principal_id), f"the instance has both identities ({dt.identity.type})")
entry = dt.identity.user_assigned_identities[made.id]
check(entry.principal_id == made.principal_id and entry.client_id == made.client_id, "the user-assigned entry carries the identity's ids")

endpoint = client.digital_twins_endpoint.begin_create_or_update(
    "mi-rg",
    "sdk-mi-twins",
    "to-bus",
    DigitalTwinsEndpointResource(
        properties=ServiceBus(
            authentication_type="IdentityBased",
            endpoint_uri="sb://bus.servicebus.windows.net/",
            entity_path="twins",
            identity=ManagedIdentityReference(type="UserAssigned", user_assigned_identity=made.id),
        )
    ),
).result()
check(endpoint.properties.provisioning_state == "Succeeded", f"the endpoint poller ends Succeeded ({endpoint.properties.provisioning_state})")
check(endpoint.properties.identity.user_assigned_identity == made.id, "the endpoint keeps its identity")
names = [e.name for e in client.digital_twins_endpoint.list("mi-rg", "sdk-mi-twins")]
check(names == ["to-bus"], f"the endpoint list has the endpoint ({names})")
other = made.id.replace("twins-id", "other")
try:
    client.digital_twins_endpoint.begin_create_or_update(
        "mi-rg",
        "sdk-mi-twins",
        "bad",
        DigitalTwinsEndpointResource(
            properties=ServiceBus(
                authentication_type="IdentityBased",
                endpoint_uri="sb://bus.servicebus.windows.net/",
                entity_path="twins",
                identity=ManagedIdentityReference(type="UserAssigned", user_assigned_identity=other),
            )
        ),
    ).result()
    check(False, "an endpoint naming an identity the instance lacks is refused")
except HttpResponseError as e:
    check(e.status_code == 400, f"an endpoint with an identity the instance lacks is 400 ({e.status_code})")
