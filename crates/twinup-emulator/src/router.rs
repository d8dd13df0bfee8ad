//! Top-level routing: decides whether a request is for the token endpoint and Entra's discovery
//! documents, ARM's cloud metadata, Microsoft Graph or ARM, gives it a route template for the
//! request log, and hands it to that front end.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::arm::routes::ArmRoute;
use crate::ctx::Ctx;
use crate::graph::routes::GraphRoute;
use crate::http::{Req, Resp, json_response};

pub(crate) enum Route {
    Token {
        tenant: String,
    },
    OpenIdConfiguration {
        tenant: String,
    },
    InstanceDiscovery,
    Keys {
        tenant: String,
    },
    Metadata,
    Arm(ArmRoute),
    Graph(GraphRoute),
    /// An instance's data plane, by its host name (`dataplane.rs`).
    DataPlane {
        host: String,
    },
    Unknown,
}

/// A route and its template (ids replaced by `{}`), e.g. `PUT /subscriptions/{}/resourceGroups/{}`.
pub(crate) struct Classified {
    pub route: Route,
    pub template: String,
}

/// Path segments, percent-decoded, empty ones dropped.
pub(crate) fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// Classifies a request: by its `Host` first (an instance's data plane), else by its path.
pub(crate) fn classify_request(req: &Req) -> Classified {
    match crate::dataplane::data_plane_host(req) {
        Some(host) => Classified {
            template: format!("{} (data plane)", req.path),
            route: Route::DataPlane { host },
        },
        None => classify(&req.method, &req.path),
    }
}

pub(crate) fn classify(method: &Method, path: &str) -> Classified {
    let segs = segments(path);
    if segs.len() == 4
        && segs[1].eq_ignore_ascii_case("oauth2")
        && segs[2].eq_ignore_ascii_case("v2.0")
        && segs[3].eq_ignore_ascii_case("token")
        && method == Method::POST
    {
        return Classified {
            route: Route::Token {
                tenant: segs[0].clone(),
            },
            template: "/{}/oauth2/v2.0/token".into(),
        };
    }
    if let Some(c) = classify_discovery(method, &segs) {
        return c;
    }
    if segs.first().is_some_and(|s| s.eq_ignore_ascii_case("v1.0")) {
        return match crate::graph::routes::classify(&segs[1..]) {
            Some((r, t)) => Classified {
                route: Route::Graph(r),
                template: format!("/v1.0{t}"),
            },
            None => Classified {
                route: Route::Graph(GraphRoute::Unknown),
                template: "/v1.0/(unknown)".into(),
            },
        };
    }
    match crate::arm::routes::classify(&segs) {
        Some((r, t)) => Classified {
            route: Route::Arm(r),
            template: t,
        },
        None => Classified {
            route: Route::Unknown,
            template: "(unknown)".into(),
        },
    }
}

/// The GET-only documents clients read before they sign in: Entra's OpenID configuration,
/// instance discovery and key set, and ARM's `/metadata/endpoints`.
fn classify_discovery(method: &Method, segs: &[String]) -> Option<Classified> {
    if method != Method::GET {
        return None;
    }
    let eq = |a: &String, b: &str| a.eq_ignore_ascii_case(b);
    let (route, template) = match segs {
        [m, e] if eq(m, "metadata") && eq(e, "endpoints") => {
            (Route::Metadata, "/metadata/endpoints".to_string())
        }
        [t, v, w, o] if eq(v, "v2.0") && eq(w, ".well-known") && eq(o, "openid-configuration") => (
            Route::OpenIdConfiguration { tenant: t.clone() },
            "/{}/v2.0/.well-known/openid-configuration".to_string(),
        ),
        [_, d, i] if eq(d, "discovery") && eq(i, "instance") => (
            Route::InstanceDiscovery,
            "/{}/discovery/instance".to_string(),
        ),
        [t, d, v, k] if eq(d, "discovery") && eq(v, "v2.0") && eq(k, "keys") => (
            Route::Keys { tenant: t.clone() },
            "/{}/discovery/v2.0/keys".to_string(),
        ),
        _ => return None,
    };
    Some(Classified { route, template })
}

pub(crate) fn dispatch(ctx: &Ctx, req: &Req, route: &Route) -> Resp {
    match route {
        Route::Token { tenant } => crate::token::token_endpoint(ctx, req, tenant),
        Route::OpenIdConfiguration { tenant } => {
            crate::oidc::openid_configuration(ctx, req, tenant)
        }
        Route::InstanceDiscovery => crate::oidc::instance_discovery(ctx, req),
        Route::Keys { tenant } => crate::oidc::keys(ctx, tenant),
        Route::Arm(r) => crate::arm::handle(ctx, req, r),
        Route::Graph(r) => crate::graph::handle(ctx, req, r),
        Route::Metadata => crate::metadata::endpoints(ctx, req),
        Route::DataPlane { host } => crate::dataplane::handle(ctx, req, host),
        Route::Unknown => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": {"code": "InvalidResourceType", "message": format!("The emulator does not serve '{} {}'. It serves the Entra ID token endpoint, ARM (resource groups, Microsoft.DigitalTwins, Microsoft.Authorization) and Microsoft Graph v1.0.", req.method, req.path)}}),
        ),
    }
}
