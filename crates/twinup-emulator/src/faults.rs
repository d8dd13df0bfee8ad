//! Fault injection: rules added through the admin API that make matching requests answer with a
//! chosen status, drop the connection, hang, or make the next long-running operation fail.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A fault rule as posted to `POST /_emulator/faults`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FaultSpec {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path_contains: Option<String>,
    /// How many matching requests the fault applies to (default 1; 0 means every request).
    #[serde(default)]
    pub count: Option<u32>,
    /// How many matching requests to let through before the fault starts (default 0).
    #[serde(default)]
    pub skip: u32,
    pub kind: FaultKind,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FaultKind {
    Status {
        status: u16,
        retry_after: Option<u64>,
        code: Option<String>,
        message: Option<String>,
    },
    Reset,
    Hang,
    LroFailed {
        code: String,
        message: String,
        status: u16,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KindWire {
    Name(String),
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<u64>,
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
    LroFailed {
        lro_failed: LroFailedWire,
    },
}

#[derive(Deserialize, Default)]
struct LroFailedWire {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    status: Option<u16>,
}

const DEFAULT_LRO_CODE: &str = "InternalServerError";
const DEFAULT_LRO_MESSAGE: &str =
    "The operation failed because of an internal error (injected by the emulator).";

impl<'de> Deserialize<'de> for FaultKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let lro = |w: LroFailedWire| FaultKind::LroFailed {
            code: w.code.unwrap_or_else(|| DEFAULT_LRO_CODE.to_string()),
            message: w.message.unwrap_or_else(|| DEFAULT_LRO_MESSAGE.to_string()),
            status: w.status.unwrap_or(500),
        };
        match KindWire::deserialize(d)? {
            KindWire::Name(n) => match n.as_str() {
                "reset" => Ok(FaultKind::Reset),
                "hang" => Ok(FaultKind::Hang),
                "lro_failed" => Ok(lro(LroFailedWire::default())),
                other => Err(serde::de::Error::custom(format!(
                    "unknown fault kind '{other}'; use \"reset\", \"hang\", \"lro_failed\", {{\"status\":N}} or {{\"lro_failed\":{{...}}}}"
                ))),
            },
            KindWire::Status {
                status,
                retry_after,
                code,
                message,
            } => {
                if !(100..=599).contains(&status) {
                    return Err(serde::de::Error::custom(format!(
                        "status {status} is not an HTTP status code"
                    )));
                }
                Ok(FaultKind::Status {
                    status,
                    retry_after,
                    code,
                    message,
                })
            }
            KindWire::LroFailed { lro_failed } => Ok(lro(lro_failed)),
        }
    }
}

impl FaultKind {
    fn to_json(&self) -> Value {
        match self {
            FaultKind::Status {
                status,
                retry_after,
                code,
                message,
            } => {
                json!({"status": status, "retry_after": retry_after, "code": code, "message": message})
            }
            FaultKind::Reset => json!("reset"),
            FaultKind::Hang => json!("hang"),
            FaultKind::LroFailed {
                code,
                message,
                status,
            } => json!({"lro_failed": {"code": code, "message": message, "status": status}}),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Active {
    id: u64,
    #[serde(skip)]
    spec: FaultSpec,
    skipped: u32,
    hits: u32,
}

/// The active fault rules.
#[derive(Default)]
pub(crate) struct Faults {
    next_id: u64,
    active: Vec<Active>,
}

impl Faults {
    pub fn add(&mut self, spec: FaultSpec) -> u64 {
        self.next_id += 1;
        self.active.push(Active {
            id: self.next_id,
            spec,
            skipped: 0,
            hits: 0,
        });
        self.next_id
    }

    pub fn clear(&mut self) {
        self.active.clear();
    }

    pub fn list(&self) -> Value {
        Value::Array(
            self.active
                .iter()
                .map(|a| {
                    json!({
                        "id": a.id,
                        "method": a.spec.method,
                        "path_contains": a.spec.path_contains,
                        "count": a.spec.count.unwrap_or(1),
                        "skip": a.spec.skip,
                        "kind": a.spec.kind.to_json(),
                        "hits": a.hits,
                    })
                })
                .collect(),
        )
    }

    /// Takes the first fault matching the request whose kind passes `wanted`.
    fn take(
        &mut self,
        method: &str,
        path: &str,
        wanted: impl Fn(&FaultKind) -> bool,
    ) -> Option<FaultKind> {
        let path_lower = path.to_lowercase();
        let idx = self.active.iter().position(|a| {
            wanted(&a.spec.kind)
                && a.spec
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && a.spec
                    .path_contains
                    .as_deref()
                    .is_none_or(|p| path_lower.contains(&p.to_lowercase()))
        })?;
        let active = &mut self.active[idx];
        if active.skipped < active.spec.skip {
            active.skipped += 1;
            return None;
        }
        active.hits += 1;
        let kind = active.spec.kind.clone();
        let limit = active.spec.count.unwrap_or(1);
        if limit != 0 && active.hits >= limit {
            self.active.remove(idx);
        }
        Some(kind)
    }

    /// A fault that replaces the whole answer (status, reset, hang).
    pub fn take_transport(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        self.take(method, path, |k| !matches!(k, FaultKind::LroFailed { .. }))
    }

    /// A fault that makes the operation started by this request fail.
    pub fn take_lro(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        self.take(method, path, |k| matches!(k, FaultKind::LroFailed { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> FaultSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn kinds_parse_from_the_documented_shapes() {
        let s = spec(
            json!({"method":"PUT","path_contains":"digitalTwinsInstances","count":2,"kind":{"status":429,"retry_after":1}}),
        );
        assert!(matches!(
            s.kind,
            FaultKind::Status {
                status: 429,
                retry_after: Some(1),
                ..
            }
        ));
        assert_eq!(spec(json!({"kind":"reset"})).kind, FaultKind::Reset);
        assert_eq!(spec(json!({"kind":"hang"})).kind, FaultKind::Hang);
        assert!(
            matches!(spec(json!({"kind":{"lro_failed":{"code":"QuotaExceeded"}}})).kind, FaultKind::LroFailed { ref code, .. } if code == "QuotaExceeded")
        );
        assert!(serde_json::from_value::<FaultSpec>(json!({"kind":"explode"})).is_err());
    }

    #[test]
    fn count_and_skip_are_honoured() {
        let mut f = Faults::default();
        f.add(spec(json!({"method":"GET","path_contains":"/ResourceGroups/","count":2,"skip":1,"kind":{"status":500}})));
        assert!(
            f.take_transport("GET", "/subscriptions/x/resourcegroups/rg")
                .is_none()
        );
        assert!(
            f.take_transport("PUT", "/subscriptions/x/resourcegroups/rg")
                .is_none()
        );
        assert!(
            f.take_transport("GET", "/subscriptions/x/resourcegroups/rg")
                .is_some()
        );
        assert!(
            f.take_transport("get", "/subscriptions/x/resourcegroups/rg")
                .is_some()
        );
        assert!(
            f.take_transport("GET", "/subscriptions/x/resourcegroups/rg")
                .is_none()
        );
    }
}
