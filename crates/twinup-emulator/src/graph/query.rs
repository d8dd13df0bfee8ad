//! OData query options for Graph lists: simple `$filter` (`eq`, `startswith`, `any(x:x eq ..)`
//! joined by `and`), `$select`, and `$top` paging with `$skiptoken`.

use serde_json::{Map, Value, json};

use crate::errors::ApiError;

use super::GCall;

enum Pred {
    Eq(String, Value),
    StartsWith(String, String),
    Any(String, String),
}

fn unsupported(filter: &str) -> ApiError {
    ApiError::bad_request(
        "Request_UnsupportedQuery",
        format!(
            "Unsupported query: '{filter}'. The emulator supports prop eq 'value', startswith(prop,'value') and collection/any(x:x eq 'value'), joined by 'and'."
        ),
    )
}

fn literal(s: &str) -> Option<Value> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        return Some(json!(inner.replace("''", "'")));
    }
    match s {
        "true" => Some(json!(true)),
        "false" => Some(json!(false)),
        "null" => Some(Value::Null),
        _ => None,
    }
}

fn parse(filter: &str) -> Result<Vec<Pred>, ApiError> {
    let mut preds = Vec::new();
    let lower = filter.to_lowercase();
    let mut starts = vec![0usize];
    let mut in_quote = false;
    let bytes = filter.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            in_quote = !in_quote;
        } else if !in_quote && lower[i..].starts_with(" and ") {
            starts.push(i + 5);
            i += 5;
            continue;
        }
        i += 1;
    }
    let mut bounds: Vec<(usize, usize)> = Vec::new();
    for (n, s) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map(|e| e - 5).unwrap_or(filter.len());
        bounds.push((*s, end));
    }
    for (s, e) in bounds {
        let clause = filter[s..e].trim();
        let cl = clause.to_lowercase();
        if cl.starts_with("startswith(") && cl.ends_with(')') {
            let inner = &clause[11..clause.len() - 1];
            let (prop, val) = inner.split_once(',').ok_or_else(|| unsupported(filter))?;
            let v = literal(val)
                .and_then(|v| v.as_str().map(str::to_string))
                .ok_or_else(|| unsupported(filter))?;
            preds.push(Pred::StartsWith(prop.trim().to_string(), v));
        } else if let Some(idx) = cl.find("/any(") {
            let prop = clause[..idx].trim().to_string();
            let inner = &clause[idx + 5..clause.len().saturating_sub(1)];
            let (_, cond) = inner.split_once(':').ok_or_else(|| unsupported(filter))?;
            let (_, val) = cond.split_once(" eq ").ok_or_else(|| unsupported(filter))?;
            let v = literal(val)
                .and_then(|v| v.as_str().map(str::to_string))
                .ok_or_else(|| unsupported(filter))?;
            preds.push(Pred::Any(prop, v));
        } else if let Some(idx) = cl.find(" eq ") {
            let prop = clause[..idx].trim().to_string();
            let v = literal(&clause[idx + 4..]).ok_or_else(|| unsupported(filter))?;
            preds.push(Pred::Eq(prop, v));
        } else {
            return Err(unsupported(filter));
        }
    }
    Ok(preds)
}

fn field<'a>(obj: &'a Map<String, Value>, prop: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(prop))
        .map(|(_, v)| v)
}

fn matches(obj: &Map<String, Value>, p: &Pred) -> bool {
    match p {
        Pred::Eq(prop, want) => match (field(obj, prop), want) {
            (Some(Value::String(a)), Value::String(b)) => a.eq_ignore_ascii_case(b),
            (Some(a), b) => a == b,
            (None, Value::Null) => true,
            (None, _) => false,
        },
        Pred::StartsWith(prop, pre) => field(obj, prop)
            .and_then(Value::as_str)
            .is_some_and(|s| s.to_lowercase().starts_with(&pre.to_lowercase())),
        Pred::Any(prop, want) => field(obj, prop).and_then(Value::as_array).is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case(want))
        }),
    }
}

/// Applies `$select` to one object.
pub(crate) fn select(call: &GCall, obj: &Map<String, Value>) -> Map<String, Value> {
    match call
        .req
        .query_param("$select")
        .filter(|s| !s.trim().is_empty())
    {
        None => obj.clone(),
        Some(sel) => {
            let wanted: Vec<String> = sel.split(',').map(|s| s.trim().to_lowercase()).collect();
            obj.iter()
                .filter(|(k, _)| wanted.contains(&k.to_lowercase()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
    }
}

/// A Graph collection answer for `items` with `$filter`, `$select`, `$top` and `$skiptoken` applied.
pub(crate) fn list(
    call: &GCall,
    context: &str,
    items: Vec<&Map<String, Value>>,
) -> Result<Value, ApiError> {
    let preds = match call
        .req
        .query_param("$filter")
        .filter(|f| !f.trim().is_empty())
    {
        Some(f) => parse(f)?,
        None => Vec::new(),
    };
    let filtered: Vec<&Map<String, Value>> = items
        .into_iter()
        .filter(|o| preds.iter().all(|p| matches(o, p)))
        .collect();
    let top = match call.req.query_param("$top") {
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=999).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "Request_BadRequest",
                    format!(
                        "Invalid page size specified: '{t}'. Must be between 1 and 999 inclusive."
                    ),
                )
            })?,
        None => 100,
    };
    let skip = call
        .req
        .query_param("$skiptoken")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    let page: Vec<Value> = filtered
        .iter()
        .skip(skip)
        .take(top)
        .map(|o| Value::Object(select(call, o)))
        .collect();
    let mut out = json!({"@odata.context": call.context(context), "value": page});
    if skip + top < filtered.len() {
        let mut params: Vec<(String, String)> = call
            .req
            .query
            .iter()
            .filter(|(k, _)| k != "$skiptoken")
            .cloned()
            .collect();
        params.push(("$skiptoken".into(), (skip + top).to_string()));
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        out["@odata.nextLink"] = json!(format!("{}{}?{qs}", call.req.base_url, call.req.path));
    }
    Ok(out)
}
