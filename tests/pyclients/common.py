"""Shared set-up of the real-clients scenarios (tests/pyclients/*.py): where the emulator is and
as whom to sign in (environment variables the Rust runner, crates/twinup-emulator/tests/
real_clients.rs, sets from the emulator's startup line), a recorder of every HTTP exchange an
azure-core client makes, and `check`, which fails the scenario with a message naming what Azure
would have answered.

Environment: EMU_URL (https://127.0.0.1:PORT), EMU_TENANT, EMU_SUBSCRIPTION, EMU_CLIENT_ID,
EMU_CLIENT_SECRET, EMU_USER_UPN, EMU_USER_ID; REQUESTS_CA_BUNDLE and SSL_CERT_FILE point at the
emulator's CA.
"""

import atexit
import os
import sys

URL = os.environ["EMU_URL"].rstrip("/")
TENANT = os.environ["EMU_TENANT"]
SUBSCRIPTION = os.environ["EMU_SUBSCRIPTION"]
CLIENT_ID = os.environ["EMU_CLIENT_ID"]
CLIENT_SECRET = os.environ["EMU_CLIENT_SECRET"]
USER_UPN = os.environ["EMU_USER_UPN"]
USER_ID = os.environ["EMU_USER_ID"]
ARM_SCOPE = "https://management.azure.com/.default"
# The Graph endpoint the emulator's /metadata/endpoints announces is the emulator itself, and a
# cloud's Graph endpoint is its Graph token audience.
GRAPH_SCOPE = URL + "/.default"


_failed = []


def check(cond, what):
    """Fails the scenario when `cond` is false (at once; with PYCLIENTS_KEEP_GOING=1 it goes on
    and exits 1 at the end, to list every departure of an emulator in one run)."""
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        if not os.environ.get("PYCLIENTS_KEEP_GOING"):
            sys.exit(1)
        if not _failed:
            atexit.register(lambda: os._exit(1))
        _failed.append(what)
        return
    print(f"ok: {what}")


def credential():
    """azure-identity's ClientSecretCredential against the emulator's authority.

    Instance discovery would ask login.microsoftonline.com about the emulator's host; like any
    private cloud (Azure Stack) the emulator is signed in to with it off, so MSAL reads the
    tenant's OpenID configuration from the emulator.
    """
    from azure.identity import ClientSecretCredential

    if os.environ.get("PYCLIENTS_DIRECT_TOKEN"):
        return DirectToken()
    return ClientSecretCredential(
        TENANT,
        CLIENT_ID,
        CLIENT_SECRET,
        authority=URL,
        disable_instance_discovery=True,
    )


class Recorder:
    """Records (method, url, status, headers, body text) of every exchange a client makes; pass
    it as the client's `raw_response_hook` (azure-core's CustomHookPolicy calls it)."""

    def __init__(self):
        self.exchanges = []

    def __call__(self, response):
        request = response
        http = response.http_response
        try:
            text = http.text()
        except Exception:  # a streamed body (the first call of a long-running operation)
            text = ""
        self.exchanges.append(
            (request.http_request.method, request.http_request.url, http.status_code, dict(http.headers), text)
        )

    def find(self, method, contains):
        return [e for e in self.exchanges if e[0] == method and contains.lower() in e[1].lower()]


def arm_kwargs(recorder=None):
    """Keyword arguments every azure-mgmt client takes to talk to the emulator's ARM."""
    kwargs = {"base_url": URL, "credential_scopes": [ARM_SCOPE]}
    if recorder is not None:
        kwargs["raw_response_hook"] = recorder
    return kwargs


class DirectToken:
    """A TokenCredential that posts to the token endpoint without MSAL's discovery. Only for
    checking, with PYCLIENTS_DIRECT_TOKEN=1, that the scenarios after sign-in fail on an emulator
    without the OpenID configuration; the suite itself always signs in through azure-identity."""

    def get_token(self, *scopes, **kwargs):
        import time

        import requests
        from azure.core.credentials import AccessToken

        r = requests.post(
            f"{URL}/{TENANT}/oauth2/v2.0/token",
            data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials", "scope": " ".join(scopes)},
        )
        r.raise_for_status()
        return AccessToken(r.json()["access_token"], int(time.time()) + 3000)
