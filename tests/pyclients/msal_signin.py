"""Scenario: signing in as MSAL-based clients do. azure-identity's ClientSecretCredential with the
emulator as authority reads `/{tenant}/v2.0/.well-known/openid-configuration` and gets ARM and
Graph tokens (the Graph one for the audience the client names as the Graph endpoint); MSAL itself,
pointed at the emulator's instance discovery, finds the tenant discovery endpoint there; an
unknown tenant is refused by the discovery document (400 AADSTS90002).
"""

import base64
import json

import msal
import requests

from common import CLIENT_ID, CLIENT_SECRET, GRAPH_SCOPE, TENANT, URL, check, credential


def claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


config = requests.get(f"{URL}/{TENANT}/v2.0/.well-known/openid-configuration")
check(config.status_code == 200, f"the OpenID configuration is served ({config.status_code})")
doc = config.json()
check(doc["token_endpoint"] == f"{URL}/{TENANT}/oauth2/v2.0/token", f"it names the token endpoint ({doc.get('token_endpoint')})")
check(doc["issuer"] == f"{URL}/{TENANT}/v2.0", "issuer is the tenant's v2.0 authority")
unknown = requests.get(f"{URL}/no-such-tenant/v2.0/.well-known/openid-configuration")
check(unknown.status_code == 400 and unknown.json().get("error_codes") == [90002], "an unknown tenant is 400 AADSTS90002")

cred = credential()
arm = cred.get_token("https://management.azure.com/.default")
check(claims(arm.token)["aud"].rstrip("/") == "https://management.azure.com", "azure-identity gets an ARM token")
graph = cred.get_token(GRAPH_SCOPE)
check(claims(graph.token)["aud"].rstrip("/") == URL, f"a Graph token for the Graph endpoint as audience ({claims(graph.token)['aud']})")
me = requests.get(f"{URL}/v1.0/organization", headers={"Authorization": f"Bearer {graph.token}"})
check(me.status_code == 200 and me.json()["value"][0]["id"] == TENANT, "Graph accepts that token")
denied = requests.get(
    f"{URL}/subscriptions?api-version=2022-12-01", headers={"Authorization": f"Bearer {graph.token}"}
)
check(denied.status_code == 401, f"ARM refuses the Graph token ({denied.status_code})")

app = msal.ConfidentialClientApplication(
    CLIENT_ID,
    client_credential=CLIENT_SECRET,
    authority=f"{URL}/{TENANT}",
    instance_discovery=f"{URL}/common/discovery/instance",
)
result = app.acquire_token_for_client(scopes=["https://management.azure.com/.default"])
check("access_token" in result, f"MSAL with the emulator's instance discovery signs in ({result.get('error_description', 'ok')})")
bad = requests.get(
    f"{URL}/common/discovery/instance",
    params={"authorization_endpoint": "https://elsewhere.example/x/oauth2/v2.0/authorize", "api-version": "1.1"},
)
check(bad.status_code == 400 and bad.json()["error"] == "invalid_instance", "another host is an invalid_instance")
