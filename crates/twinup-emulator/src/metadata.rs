//! `GET /metadata/endpoints?api-version=2022-09-01`: the emulator described as a cloud, the way
//! Azure Resource Manager (and Azure Stack Hub) describe theirs, so a client given only the ARM
//! endpoint (`az cloud register --endpoint-resource-manager`, twinup's `--cloud custom
//! --arm-endpoint`) finds the login endpoint, the token audiences and Microsoft Graph. The
//! emulator is its own login endpoint, ARM and Graph. Its ARM audience is a name of its own
//! (`https://management.twinup.local/`), accepted besides the public ones, so a client that uses
//! the public audiences regardless is caught; its Graph audience is its Graph endpoint, as in
//! every real cloud (`https://graph.microsoft.com/`, `https://graph.microsoft.us/`,
//! `https://microsoftgraph.chinacloudapi.cn/`), which is how az and the SDKs ask for Graph tokens.
//!
//! Sources: the document `https://management.azure.com/metadata/endpoints?api-version=2022-09-01`
//! returns (an object with `resourceManager`, `authentication.loginEndpoint`,
//! `authentication.audiences`, `authentication.tenant`, `authentication.identityProvider`,
//! `graph`, `graphAudience`, `microsoftGraphResourceId`, `portal`, `name`, `suffixes`), as read by
//! hashicorp/go-azure-sdk's metadata client (`getMetaDataFrom2022API`, `metaDataResponse20220901`)
//! and azure-cli's `get_cloud_from_metadata_endpoint`; Azure Stack Hub documents the same
//! endpoint for its ARM (learn.microsoft.com/azure-stack/user/azure-stack-version-profiles-azurecli2).

use axum::http::StatusCode;
use serde_json::json;

use crate::ctx::Ctx;
use crate::http::{Req, Resp, json_response};

/// The ARM token audience the metadata names.
pub(crate) const ARM_AUDIENCE: &str = "https://management.twinup.local";

/// The metadata document, with the URL the client used as every endpoint.
pub(crate) fn endpoints(_ctx: &Ctx, req: &Req) -> Resp {
    if req.query_param("api-version").is_none_or(str::is_empty) {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": {"code": "MissingApiVersionParameter",
                "message": "The api-version query parameter (?api-version=) is required for all requests."}}),
        );
    }
    let base = format!("{}/", req.base_url.trim_end_matches('/'));
    json_response(
        StatusCode::OK,
        &json!({
            "name": "TwinupEmulator",
            "portal": base,
            "resourceManager": base,
            "authentication": {
                // Without the trailing slash, as az stores a cloud's `activeDirectory`.
                "loginEndpoint": base.trim_end_matches('/'),
                "audiences": [format!("{ARM_AUDIENCE}/")],
                "tenant": "common",
                "identityProvider": "AAD"
            },
            "graph": base,
            "graphAudience": base,
            "microsoftGraphResourceId": base,
            "microsoftGraphEndpoint": base,
            "media": base,
            "batch": base,
            "sqlManagement": base,
            "vmImageAliasDoc": "",
            "suffixes": {
                "keyVaultDns": "vault.twinup.local",
                "storage": "core.twinup.local",
                "sqlServerHostname": "database.twinup.local",
                "acrLoginServer": "azurecr.twinup.local"
            }
        }),
    )
}
