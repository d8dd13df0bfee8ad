"""Scenario: role definitions and role assignments through azure-mgmt-authorization: the
definition by name (one built-in role, its id `/subscriptions/{s}/providers/Microsoft.Authorization/
roleDefinitions/{g}`), an assignment on a resource group (201, its roleDefinitionId in that same
form, so clients can match it against the definition), the duplicate under another name (409
RoleAssignmentExists), get, list with a principal filter, and delete (200, then 404).
"""

import uuid

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.resource import ResourceManagementClient

from common import SUBSCRIPTION, USER_ID, Recorder, arm_kwargs, check, credential

cred = credential()
ResourceManagementClient(cred, SUBSCRIPTION, **arm_kwargs()).resource_groups.create_or_update(
    "rbac-rg", {"location": "westus2"}
)
scope = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rbac-rg"
recorder = Recorder()
client = AuthorizationManagementClient(cred, SUBSCRIPTION, **arm_kwargs(recorder))

defs = list(client.role_definitions.list(scope, filter="roleName eq 'Azure Digital Twins Data Owner'"))
check(len(defs) == 1, f"one definition by name ({len(defs)})")
role = defs[0]
guid = "bcd981a7-7f74-457b-83e1-cceb9e632ffe"
want_id = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
check(role.name == guid and role.role_type == "BuiltInRole", "it is the built-in Data Owner role")
check(role.id == want_id, f"the definition id is subscription-qualified ({role.id})")
by_id = client.role_definitions.get(scope, guid)
check(by_id.id == want_id, f"get by id gives the same id ({by_id.id})")

name = str(uuid.uuid4())
params = {"properties": {"roleDefinitionId": role.id, "principalId": USER_ID, "principalType": "User"}}
created = client.role_assignments.create(scope, name, params)
check(recorder.find("PUT", name)[-1][2] == 201, "create answers 201")
check(created.role_definition_id == role.id, f"the assignment's roleDefinitionId is the definition's id ({created.role_definition_id})")
check(created.scope.lower() == scope.lower() and created.principal_id == USER_ID, "scope and principal as sent")

try:
    client.role_assignments.create(scope, str(uuid.uuid4()), params)
    check(False, "a duplicate assignment is refused")
except ResourceExistsError as e:
    check(e.status_code == 409 and e.error.code == "RoleAssignmentExists", f"duplicate: 409 RoleAssignmentExists ({e.error.code})")

got = client.role_assignments.get(scope, name)
check(got.id == created.id and got.role_definition_id == role.id, "get returns the assignment")
listed = list(client.role_assignments.list_for_scope(scope, filter=f"principalId eq '{USER_ID}'"))
mine = [a for a in listed if a.name == name]
check(len(mine) == 1 and mine[0].role_definition_id == role.id, "the filtered list has it, with the same roleDefinitionId")
deleted = client.role_assignments.delete(scope, name)
check(deleted is not None and deleted.name == name, "delete answers 200 with the assignment")
try:
    client.role_assignments.get(scope, name)
    check(False, "get after delete raises")
except ResourceNotFoundError as e:
    check(e.error.code == "RoleAssignmentNotFound", f"get after delete is RoleAssignmentNotFound ({e.error.code})")
