//! `GET /metadata/endpoints`: ARM's cloud-metadata document, which `az cloud register
//! --endpoint-resource-manager URL` and the SDKs' custom-cloud support read to discover the
//! login endpoint, the ARM token audiences and the Microsoft Graph endpoint of a cloud.
//!
//! Shape: the `api-version=2022-09-01` document of `https://management.azure.com/metadata/endpoints`
//! (one object: `name`, `portal`, `authentication{loginEndpoint, audiences, tenant,
//! identityProvider}`, `resourceManager`, `microsoftGraphResourceId`, `suffixes{}`), as the az CLI
//! reads it (`azure/cli/command_modules/cloud/custom.py` `_populate_from_metadata_endpoint`, which
//! asks for `?api-version=2022-09-01`, and `azure/cli/core/cloud.py` `_arm_to_cli_mapper`).
//! Every endpoint is the emulator itself, as the client addressed it; the ARM audiences are the
//! public cloud's, which the token endpoint and ARM already accept. The Graph endpoint is also the
//! Graph token audience, as in every real cloud (`https://graph.microsoft.com/`,
//! `https://graph.microsoft.us/`, `https://microsoftgraph.chinacloudapi.cn/`). Served without a
//! token, as ARM serves it. Only what the emulator serves is listed: no storage, Key Vault, SQL or
//! batch endpoints.

use axum::http::StatusCode;
use serde_json::json;

use crate::http::{Req, Resp, json_response};

/// The cloud name the document gives (clients use their own name when they register it).
pub(crate) const CLOUD_NAME: &str = "TwinupLocal";

/// `GET /metadata/endpoints?api-version=...`.
pub(crate) fn endpoints(req: &Req) -> Resp {
    let base = req.base_url.trim_end_matches('/');
    json_response(
        StatusCode::OK,
        &json!({
            "name": CLOUD_NAME,
            "portal": base,
            "authentication": {
                "loginEndpoint": base,
                "audiences": [
                    "https://management.core.windows.net/",
                    "https://management.azure.com/"
                ],
                "tenant": "common",
                "identityProvider": "AAD"
            },
            "resourceManager": format!("{base}/"),
            "microsoftGraphResourceId": format!("{base}/"),
            "suffixes": {}
        }),
    )
}
