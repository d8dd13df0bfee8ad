"""Scenario: the az CLI (azure-cli 2.91) against the emulator as a custom cloud: `az cloud
register` discovering every endpoint from /metadata/endpoints, `az login --service-principal`
(instance discovery off, as for any private cloud), `az group create`, the instance through `az
resource create` and `az rest`, `az role assignment create --assignee UPN` run twice (the second
finds the first: same id, roleDefinitionName set), `az role assignment list -o table` (names the
principal through directoryObjects/getByIds), `az ad app create` with a public-client reply URL
and a permission manifest run twice (the second updates the first), and `az ad app list`.

Runs `az` from the venv with AZURE_CONFIG_DIR (set by the runner) as its profile directory.
"""

import json
import os
import subprocess
import sys
import tempfile

from common import CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION, TENANT, URL, USER_UPN, check

AZ = os.path.join(os.path.dirname(sys.executable), "az")
ENV = dict(os.environ, AZURE_CORE_COLLECT_TELEMETRY="false", AZURE_CORE_NO_COLOR="true", AZURE_CORE_SURVEY_MESSAGE="false")
check(bool(os.environ.get("AZURE_CONFIG_DIR")), "AZURE_CONFIG_DIR is set")


def az(*args, ok=True):
    """Runs az; returns (exit code, parsed JSON or text, stderr)."""
    p = subprocess.run([AZ, *args], capture_output=True, text=True, env=ENV, timeout=240)
    out = p.stdout
    try:
        out = json.loads(out) if out.strip() else None
    except ValueError:
        pass
    if ok and p.returncode != 0:
        print(f"az {' '.join(args)} failed ({p.returncode}):\n{p.stderr}", file=sys.stderr)
    return p.returncode, out, p.stderr


code, _, err = az("cloud", "register", "--name", "TwinupLocal", "--endpoint-resource-manager", URL + "/")
check(code == 0, f"az cloud register discovers the endpoints from /metadata/endpoints ({err.strip()[:300]})")
code, cloud, _ = az("cloud", "show", "--name", "TwinupLocal", "-o", "json")
endpoints = (cloud or {}).get("endpoints", {})
check(endpoints.get("activeDirectory") == URL, f"login endpoint discovered ({endpoints.get('activeDirectory')})")
check(endpoints.get("microsoftGraphResourceId") == URL + "/", f"Graph endpoint discovered ({endpoints.get('microsoftGraphResourceId')})")
check(az("cloud", "set", "--name", "TwinupLocal")[0] == 0, "az cloud set")
check(az("config", "set", "core.instance_discovery=false")[0] == 0, "instance discovery off")

code, accounts, err = az("login", "--service-principal", "--username", CLIENT_ID, "--password", CLIENT_SECRET, "--tenant", TENANT, "-o", "json")
check(code == 0, f"az login --service-principal ({err.strip()[:300]})")
check(isinstance(accounts, list) and accounts[0]["id"] == SUBSCRIPTION, "login finds the subscription")

code, group, _ = az("group", "create", "--name", "cli-rg", "--location", "westus2", "-o", "json")
check(code == 0 and group["properties"]["provisioningState"] == "Succeeded", "az group create")

instance_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/cli-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/cli-twins-1"
code, inst, err = az(
    "resource", "create", "--resource-group", "cli-rg", "--name", "cli-twins-1",
    "--resource-type", "Microsoft.DigitalTwins/digitalTwinsInstances", "--api-version", "2023-01-31",
    "--is-full-object", "--properties", json.dumps({"location": "westus2", "tags": {"suite": "cli"}}), "-o", "json",
)
check(code == 0, f"az resource create makes the instance ({err.strip()[:300]})")
code, got, _ = az("rest", "--method", "get", "--url", f"{URL}{instance_id}?api-version=2023-01-31", "-o", "json")
check(code == 0 and got["properties"]["provisioningState"] == "Succeeded", "az rest reads it Succeeded")
check(bool(got["properties"]["hostName"]), "with a host name")

first = az("role", "assignment", "create", "--assignee", USER_UPN, "--role", "Azure Digital Twins Data Owner", "--scope", instance_id, "-o", "json")
check(first[0] == 0, f"az role assignment create --assignee UPN ({first[2].strip()[:300]})")
second = az("role", "assignment", "create", "--assignee", USER_UPN, "--role", "Azure Digital Twins Data Owner", "--scope", instance_id, "-o", "json")
check(second[0] == 0, f"the same command again finds the existing assignment ({second[2].strip()[:300]})")
check(first[1]["id"] == second[1]["id"], "both runs give the same assignment")
code, listed, err = az("role", "assignment", "list", "--scope", instance_id, "-o", "json")
check(code == 0 and len(listed) == 1, f"one assignment at the instance ({err.strip()[:200]})")
check(listed[0]["roleDefinitionName"] == "Azure Digital Twins Data Owner", f"roleDefinitionName is set ({listed[0].get('roleDefinitionName')})")
code, table, err = az("role", "assignment", "list", "--scope", instance_id, "-o", "table")
check(code == 0 and USER_UPN in str(table), f"az role assignment list -o table names the principal ({err.strip()[:300]})")

with tempfile.TemporaryDirectory() as tmp:
    manifest = os.path.join(tmp, "manifest.json")
    with open(manifest, "w") as f:
        json.dump([{"resourceAppId": "0b07f429-9f4b-4714-9392-cc5e8e80c8b0",
                    "resourceAccess": [{"id": "4589bd03-58cb-4e6c-b17f-b580e39652f8", "type": "Scope"}]}], f)
    args = ("ad", "app", "create", "--display-name", "cli-client-app", "--public-client-redirect-uris", "http://localhost",
            "--required-resource-accesses", "@" + manifest, "-o", "json")
    code, app1, err = az(*args)
    check(code == 0, f"az ad app create ({err.strip()[:300]})")
    check(app1["publicClient"]["redirectUris"] == ["http://localhost"], "the reply URL is a public-client one")
    check(app1["requiredResourceAccess"][0]["resourceAppId"] == "0b07f429-9f4b-4714-9392-cc5e8e80c8b0", "the permission manifest is set")
    code, app2, err = az(*args)
    check(code == 0 and app2["appId"] == app1["appId"], f"the second az ad app create updates the same app ({err.strip()[:300]})")
code, apps, _ = az("ad", "app", "list", "--display-name", "cli-client-app", "-o", "json")
check(code == 0 and [a["appId"] for a in apps] == [app1["appId"]], "az ad app list finds exactly one app")
