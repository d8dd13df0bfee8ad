//! The admin API serves only the emulator's own clients (issue 17): a request without the
//! per-start admin token, with a `text/plain` body (a web page's simple POST), from a foreign
//! `Origin`, or addressed to another `Host` (DNS rebinding) gets 403 and changes nothing, while
//! the Azure-facing routes answer as before.

mod common;

use reqwest::{Method, StatusCode};
use serde_json::json;
use twinup_emulator::ADMIN_TOKEN_HEADER;

/// Sends `method path` to the admin API with exactly `headers` and `body`.
async fn raw(
    env: &common::Env,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> StatusCode {
    let mut req = env.http.request(method, env.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.body(body.to_string());
    }
    req.send().await.unwrap().status()
}

/// A refused admin request: what it is, its headers, method and path.
type Attempt<'a> = (&'a str, Vec<(&'a str, &'a str)>, Method, &'a str);

#[tokio::test]
async fn admin_requests_from_anyone_but_the_emulators_own_clients_get_403() {
    let env = common::start().await;
    let token = env.info.admin_token.clone();
    assert!(!token.is_empty(), "the emulator prints an admin token");
    let fault = r#"{"kind": {"status": 500}}"#;
    let json_type = ("content-type", "application/json");
    let with_token = (ADMIN_TOKEN_HEADER, token.as_str());

    let refused: Vec<Attempt> = vec![
        (
            "no token",
            vec![json_type],
            Method::POST,
            "/_emulator/faults",
        ),
        (
            "wrong token",
            vec![json_type, (ADMIN_TOKEN_HEADER, "guess")],
            Method::POST,
            "/_emulator/faults",
        ),
        (
            "text/plain body",
            vec![("content-type", "text/plain"), with_token],
            Method::POST,
            "/_emulator/faults",
        ),
        (
            "foreign origin",
            vec![json_type, with_token, ("origin", "http://evil.example")],
            Method::POST,
            "/_emulator/faults",
        ),
        (
            "rebinding host",
            vec![with_token, ("host", "attacker.example")],
            Method::GET,
            "/_emulator/state",
        ),
        (
            "state without a token",
            vec![],
            Method::GET,
            "/_emulator/state",
        ),
    ];
    for (name, headers, method, path) in refused {
        let body = (method == Method::POST).then_some(fault);
        let status = raw(&env, method, path, &headers, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }
    // Nothing was changed by the refused requests: no fault rule was added.
    let faults = env.admin(Method::GET, "/faults", None).await;
    assert_eq!(faults.status, 200);
    assert_eq!(faults.body["faults"], json!([]));

    // The emulator's own clients still work, and so do the Azure-facing routes.
    let ok = raw(
        &env,
        Method::POST,
        "/_emulator/faults",
        &[json_type, with_token],
        Some(r#"{"kind": {"status": 500}, "path_contains": "nothing-matches-this"}"#),
    )
    .await;
    assert_eq!(ok, StatusCode::CREATED);
    let rg = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/resourcegroups?api-version=2025-04-01",
                env.sub()
            ),
            None,
        )
        .await;
    assert_eq!(rg.status, 200);
}
