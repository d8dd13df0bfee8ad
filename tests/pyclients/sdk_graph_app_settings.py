"""Scenario: an application's sign-in settings and owners through msgraph-sdk: web and SPA
redirect URIs with the implicit grant settings (read back as sent), an http web URI that is not
localhost (400), a personal-account audience without v2 access tokens (400
InvalidAccessTokenVersion) and with them (201), and owners: add a user by `$ref` (204), list
them, and adding the same user again (400).
"""

import asyncio

from msgraph import GraphServiceClient
from msgraph.generated.models.api_application import ApiApplication
from msgraph.generated.models.application import Application
from msgraph.generated.models.implicit_grant_settings import ImplicitGrantSettings
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.spa_application import SpaApplication
from msgraph.generated.models.web_application import WebApplication

from common import GRAPH_SCOPE, URL, USER_ID, check, credential


async def main():
    client = GraphServiceClient(credentials=credential(), scopes=[GRAPH_SCOPE])
    client.request_adapter.base_url = f"{URL}/v1.0"

    app = await client.applications.post(
        Application(
            display_name="sdk-settings-app",
            sign_in_audience="AzureADMultipleOrgs",
            web=WebApplication(
                redirect_uris=["https://app.example.com/signin-oidc"],
                implicit_grant_settings=ImplicitGrantSettings(enable_id_token_issuance=True, enable_access_token_issuance=False),
            ),
            spa=SpaApplication(redirect_uris=["http://localhost:3000"]),
        )
    )
    got = await client.applications.by_application_id(app.id).get()
    check(got.sign_in_audience == "AzureADMultipleOrgs", f"the audience is kept ({got.sign_in_audience})")
    check(got.web.redirect_uris == ["https://app.example.com/signin-oidc"], "the web redirect URIs are kept")
    check(got.web.implicit_grant_settings.enable_id_token_issuance is True, "the implicit ID-token grant is kept")
    check(got.spa.redirect_uris == ["http://localhost:3000"], "the SPA redirect URIs are kept")

    try:
        await client.applications.post(Application(display_name="sdk-http", web=WebApplication(redirect_uris=["http://app.example.com"])))
        check(False, "an http web redirect URI that is not localhost is refused")
    except ODataError as e:
        check(e.response_status_code == 400, f"http web redirect URI: 400 ({e.response_status_code})")
    try:
        await client.applications.post(Application(display_name="sdk-v1", sign_in_audience="PersonalMicrosoftAccount"))
        check(False, "a personal-account audience without v2 tokens is refused")
    except ODataError as e:
        code = e.error.code if e.error else None
        check(e.response_status_code == 400 and code == "InvalidAccessTokenVersion", f"personal audience without v2 tokens: 400 InvalidAccessTokenVersion ({code})")
    v2 = await client.applications.post(
        Application(display_name="sdk-v2", sign_in_audience="PersonalMicrosoftAccount", api=ApiApplication(requested_access_token_version=2))
    )
    check(v2.sign_in_audience == "PersonalMicrosoftAccount", "a personal-account audience with v2 tokens is created")

    owners = client.applications.by_application_id(app.id).owners
    await owners.ref.post(ReferenceCreate(odata_id=f"{URL}/v1.0/directoryObjects/{USER_ID}"))
    listed = await owners.get()
    check(USER_ID in [o.id for o in listed.value], "the user is listed as an owner")
    try:
        await owners.ref.post(ReferenceCreate(odata_id=f"{URL}/v1.0/directoryObjects/{USER_ID}"))
        check(False, "adding the same owner twice is refused")
    except ODataError as e:
        check(e.response_status_code == 400, f"a second add of the same owner: 400 ({e.response_status_code})")

    for a in (app, v2):
        await client.applications.by_application_id(a.id).delete()


asyncio.run(main())
