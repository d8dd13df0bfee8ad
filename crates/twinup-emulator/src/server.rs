//! The HTTP(S) server: accepts connections, reads each request, applies transport faults
//! (status, reset, hang), dispatches, persists changed state, and records the request in the log
//! before the answer is written.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::ctx::{Ctx, lock};
use crate::errors::ApiError;
use crate::faults::FaultKind;
use crate::http::{Req, Resp, json_response, parse_query, set_header};
use crate::router::{self, Route};

/// Largest request body accepted.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Returned to hyper to close a connection without answering.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Serves until `cancel` fires, then closes every connection.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    ctx: Arc<Ctx>,
    cancel: CancellationToken,
) {
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let ctx = Arc::clone(&ctx);
        let cancel = cancel.clone();
        let tls = tls.clone();
        tracker.spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = connection(stream, peer, tls, ctx, cancel.clone()) => {}
            }
        });
    }
    tracker.close();
    tracker.wait().await;
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    ctx: Arc<Ctx>,
    cancel: CancellationToken,
) {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let svc = service_fn(move |req: Request<Incoming>| {
        let ctx = Arc::clone(&ctx);
        let cancel = cancel.clone();
        async move { handle(ctx, peer, scheme, req, cancel).await }
    });
    let builder = http1::Builder::new();
    match tls {
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(s) => {
                let _ = builder.serve_connection(TokioIo::new(s), svc).await;
            }
            Err(e) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
        },
        None => {
            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
        }
    }
}

async fn handle(
    ctx: Arc<Ctx>,
    peer: SocketAddr,
    scheme: &'static str,
    req: Request<Incoming>,
    cancel: CancellationToken,
) -> Result<Resp, Dropped> {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(Body::new(body), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return Ok(json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({"error": {"code": "RequestTooLarge", "message": format!("The request body is larger than {MAX_BODY} bytes or could not be read.")}}),
            ));
        }
    };
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let base_url = match host {
        Some(h) => format!("{scheme}://{h}"),
        None => ctx.info.url.clone(),
    };
    let query_raw = parts.uri.query().unwrap_or("").to_string();
    let req = Req {
        method: parts.method.clone(),
        path: parts.uri.path().to_string(),
        query: parse_query(Some(&query_raw)),
        headers: parts.headers,
        body,
        peer,
        base_url,
    };

    if req.path == "/_emulator" || req.path.starts_with("/_emulator/") {
        let resp = crate::admin::handle(&ctx, &req);
        return Ok(match ctx.persist().await {
            Ok(()) => resp,
            Err(e) => persist_failed(&e),
        });
    }

    let classified = router::classify_request(&req);
    let method = req.method.as_str().to_string();
    let fault = lock(&ctx.faults).take_transport(&method, &req.path);
    let logged_body = serde_json::from_slice::<serde_json::Value>(&req.body).ok();
    let record = |status: Option<u16>, outcome: &'static str, fault: bool| {
        lock(&ctx.log).record(
            &method,
            &classified.template,
            &req.path,
            &query_raw,
            status,
            outcome,
            fault,
            logged_body.clone(),
        );
    };
    let (resp, faulted) = match fault {
        Some(FaultKind::Reset) => {
            record(None, "reset", true);
            return Err(Dropped);
        }
        Some(FaultKind::Hang) => {
            record(None, "hang", true);
            cancel.cancelled().await;
            return Err(Dropped);
        }
        Some(FaultKind::Status {
            status,
            retry_after,
            code,
            message,
        }) => (
            fault_response(
                &ctx,
                &req,
                &classified.route,
                status,
                retry_after,
                code,
                message,
            ),
            true,
        ),
        _ => (router::dispatch(&ctx, &req, &classified.route), false),
    };
    let resp = match ctx.persist().await {
        Ok(()) => resp,
        Err(e) => persist_failed(&e),
    };
    tracing::debug!(method = %method, route = %classified.template, status = resp.status().as_u16(), "request");
    record(Some(resp.status().as_u16()), "response", faulted);
    Ok(resp)
}

fn persist_failed(e: &crate::errors::EmulatorError) -> Resp {
    tracing::error!("{e}");
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"error": {"code": "InternalServerError", "message": format!("The emulator could not save its state: {e}")}}),
    )
}

/// The answer of a `status` fault, shaped like the service the request was for.
fn fault_response(
    ctx: &Ctx,
    req: &Req,
    route: &Route,
    status: u16,
    retry_after: Option<u64>,
    code: Option<String>,
    message: Option<String>,
) -> Resp {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = message.unwrap_or_else(|| {
        format!(
            "{} (injected by the emulator).",
            status.canonical_reason().unwrap_or("Error")
        )
    });
    let mut resp = match route {
        Route::Token { .. } => {
            let error = code.unwrap_or_else(|| {
                if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                    "temporarily_unavailable".into()
                } else {
                    "invalid_request".into()
                }
            });
            crate::token::oauth_error(status, &error, 50000, &message)
        }
        Route::Graph(_) => {
            let code = code.unwrap_or_else(|| crate::graph::default_code(status).to_string());
            crate::graph::error_response(&ApiError::new(status, &code, message))
        }
        _ => {
            let code = code.unwrap_or_else(|| crate::arm::default_code(status).to_string());
            let mut r = crate::arm::error_response(&ApiError::new(status, &code, message));
            crate::arm::add_request_ids(&mut r, req);
            let _ = ctx;
            r
        }
    };
    if let Some(secs) = retry_after {
        set_header(&mut resp, "Retry-After", &secs.to_string());
    }
    resp
}
