//! Top-level routing: decides whether a request is for the token endpoint, Microsoft Graph or
//! ARM, gives it a route template for the request log, and hands it to that front end.

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
    Arm(ArmRoute),
    Graph(GraphRoute),
    /// `GET /metadata/endpoints`.
    Metadata,
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
    if segs.len() == 2
        && segs[0].eq_ignore_ascii_case("metadata")
        && segs[1].eq_ignore_ascii_case("endpoints")
        && method == Method::GET
    {
        return Classified {
            route: Route::Metadata,
            template: "/metadata/endpoints".into(),
        };
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

pub(crate) fn dispatch(ctx: &Ctx, req: &Req, route: &Route) -> Resp {
    match route {
        Route::Token { tenant } => crate::token::token_endpoint(ctx, req, tenant),
        Route::Arm(r) => crate::arm::handle(ctx, req, r),
        Route::Graph(r) => crate::graph::handle(ctx, req, r),
        Route::Metadata => crate::metadata::endpoints(ctx, req),
        Route::Unknown => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": {"code": "InvalidResourceType", "message": format!("The emulator does not serve '{} {}'. It serves the Entra ID token endpoint, ARM (resource groups, Microsoft.DigitalTwins, Microsoft.Authorization) and Microsoft Graph v1.0.", req.method, req.path)}}),
        ),
    }
}
