//! Credential wiring over HTTP: the azure_core transport adapter sends azure_identity's requests
//! through our reqwest client, and `provider_for` picks client credentials for the emulator.

mod common;

use std::sync::Arc;

use azure_core::http::{HttpClient as _, Method, Request, Url};
use twinup_azure::Cloud;
use twinup_azure::credential::transport::ReqwestTransport;
use twinup_azure::credential::{ChainSettings, provider_for};
use twinup_azure::secret::Secret;

use common::{CLIENT_SECRET, TENANT, fake, http};

#[tokio::test]
async fn azure_core_requests_go_through_our_client() {
    let f = fake::start().await;
    let transport = ReqwestTransport::new(&http(), None);
    let url = Url::parse(&format!("{}/{TENANT}/oauth2/v2.0/token", f.url)).unwrap();
    let mut request = Request::new(url, Method::Post);
    request.insert_header("content-type", "application/x-www-form-urlencoded");
    request.set_body(format!(
        "client_id=c&client_secret={CLIENT_SECRET}&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
    ));
    let response = transport.execute_request(&request).await.unwrap();
    assert_eq!(u16::from(response.status()), 200);
    let body = response.into_body().collect().await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(
        f.world().token_scopes,
        ["https://management.azure.com/.default"]
    );
}

#[tokio::test]
async fn local_cloud_uses_client_credentials_and_caches() {
    let f = fake::start().await;
    let settings = ChainSettings {
        tenant_id: Some(TENANT.into()),
        client_id: Some("client-app".into()),
        client_secret: Some(Secret::new(CLIENT_SECRET)),
        federated_token_file: None,
    };
    let provider = provider_for(&Cloud::Local { url: f.url.clone() }, &http(), &settings).unwrap();
    assert!(provider.name().contains("client credentials"));
    provider
        .token("https://graph.microsoft.com/.default")
        .await
        .unwrap();
    provider
        .token("https://graph.microsoft.com/.default")
        .await
        .unwrap();
    assert_eq!(f.world().token_requests, 1);
    let _ = Arc::clone(&provider);
}

#[tokio::test]
async fn local_cloud_without_a_secret_names_the_variable() {
    let settings = ChainSettings {
        tenant_id: Some(TENANT.into()),
        client_id: Some("client-app".into()),
        ..ChainSettings::default()
    };
    let err = provider_for(
        &Cloud::Local {
            url: "http://127.0.0.1:1".into(),
        },
        &http(),
        &settings,
    )
    .unwrap_err();
    assert!(err.to_string().contains("AZURE_CLIENT_SECRET"), "{err}");
}
