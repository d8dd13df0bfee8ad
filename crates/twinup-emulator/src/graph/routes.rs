//! Graph v1.0 URL grammar: entity sets, keys (`/{id}`, `(appId='..')`, `(uniqueName='..')`) and
//! the navigation/action segments the emulator serves, with templates for the request log.

/// How an application or service principal is addressed.
#[derive(Debug, Clone)]
pub(crate) enum Key {
    Id(String),
    AppId(String),
    UniqueName(String),
}

impl Key {
    fn template(&self) -> &'static str {
        match self {
            Key::Id(_) => "/{}",
            Key::AppId(_) => "(appId='{}')",
            Key::UniqueName(_) => "(uniqueName='{}')",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Key::Id(v) => v.clone(),
            Key::AppId(v) => format!("appId='{v}'"),
            Key::UniqueName(v) => format!("uniqueName='{v}'"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum GraphRoute {
    Applications,
    Application(Key),
    AppOwners(Key),
    AppOwnerRef(Key, Option<String>),
    AppAddPassword(Key),
    AppRemovePassword(Key),
    ServicePrincipals,
    ServicePrincipal(Key),
    Users,
    User(String),
    Me,
    Grants,
    Grant(String),
    DirectoryObject(String),
    DirectoryObjectsGetByIds,
    Organization,
    Unknown,
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn unquote(s: &str) -> Option<String> {
    let s = s.trim();
    s.strip_prefix('\'')?
        .strip_suffix('\'')
        .map(|v| v.replace("''", "'"))
}

/// Splits `entity(...)`-style or `entity/{id}` addressing off the front of `segs`.
fn keyed<'a>(segs: &'a [String], entity: &str) -> Option<(Option<Key>, &'a [String])> {
    let first = segs.first()?;
    if eq(first, entity) {
        return match segs.get(1) {
            None => Some((None, &segs[1..])),
            Some(id) => Some((Some(Key::Id(id.clone())), &segs[2..])),
        };
    }
    let lower = first.to_lowercase();
    let prefix = format!("{}(", entity.to_lowercase());
    if lower.starts_with(&prefix) && first.ends_with(')') {
        let inner = &first[prefix.len()..first.len() - 1];
        let key = match inner.split_once('=') {
            Some((k, v)) if eq(k.trim(), "appId") => Key::AppId(unquote(v)?),
            Some((k, v)) if eq(k.trim(), "uniqueName") => Key::UniqueName(unquote(v)?),
            Some(_) => return None,
            None => Key::Id(unquote(inner)?),
        };
        return Some((Some(key), &segs[1..]));
    }
    None
}

/// Classifies the segments after `/v1.0`.
pub(crate) fn classify(segs: &[String]) -> Option<(GraphRoute, String)> {
    use GraphRoute::*;
    if let Some((key, rest)) = keyed(segs, "applications") {
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        return match (key, rest.as_slice()) {
            (None, []) => Some((Applications, "/applications".into())),
            (Some(k), []) => {
                let t = format!("/applications{}", k.template());
                Some((Application(k), t))
            }
            (Some(k), [o]) if eq(o, "owners") => {
                let t = format!("/applications{}/owners", k.template());
                Some((AppOwners(k), t))
            }
            (Some(k), [o, r]) if eq(o, "owners") && eq(r, "$ref") => {
                let t = format!("/applications{}/owners/$ref", k.template());
                Some((AppOwnerRef(k, None), t))
            }
            (Some(k), [o, id, r]) if eq(o, "owners") && eq(r, "$ref") => {
                let t = format!("/applications{}/owners/{{}}/$ref", k.template());
                Some((AppOwnerRef(k, Some(id.to_string())), t))
            }
            (Some(k), [a]) if eq(a, "addPassword") => {
                let t = format!("/applications{}/addPassword", k.template());
                Some((AppAddPassword(k), t))
            }
            (Some(k), [a]) if eq(a, "removePassword") => {
                let t = format!("/applications{}/removePassword", k.template());
                Some((AppRemovePassword(k), t))
            }
            _ => None,
        };
    }
    if let Some((key, rest)) = keyed(segs, "servicePrincipals") {
        return match (key, rest.is_empty()) {
            (None, true) => Some((ServicePrincipals, "/servicePrincipals".into())),
            (Some(k), true) => {
                let t = format!("/servicePrincipals{}", k.template());
                Some((ServicePrincipal(k), t))
            }
            _ => None,
        };
    }
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        [u] if eq(u, "users") => Some((Users, "/users".into())),
        [u, id] if eq(u, "users") => Some((User(id.to_string()), "/users/{}".into())),
        [m] if eq(m, "me") => Some((Me, "/me".into())),
        [g] if eq(g, "oauth2PermissionGrants") => Some((Grants, "/oauth2PermissionGrants".into())),
        [g, id] if eq(g, "oauth2PermissionGrants") => {
            Some((Grant(id.to_string()), "/oauth2PermissionGrants/{}".into()))
        }
        [d, a] if eq(d, "directoryObjects") && eq(a, "getByIds") => Some((
            DirectoryObjectsGetByIds,
            "/directoryObjects/getByIds".into(),
        )),
        [d, id] if eq(d, "directoryObjects") => Some((
            DirectoryObject(id.to_string()),
            "/directoryObjects/{}".into(),
        )),
        [o] if eq(o, "organization") => Some((Organization, "/organization".into())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::segments;

    #[test]
    fn keys_parse() {
        let (r, t) = classify(&segments("/applications(uniqueName='my%20app')")).unwrap();
        assert!(matches!(r, GraphRoute::Application(Key::UniqueName(ref n)) if n == "my app"));
        assert_eq!(t, "/applications(uniqueName='{}')");
        let (r, _) = classify(&segments("/servicePrincipals(appId='abc')")).unwrap();
        assert!(matches!(r, GraphRoute::ServicePrincipal(Key::AppId(ref n)) if n == "abc"));
        let (r, t) = classify(&segments("/applications/123/owners/$ref")).unwrap();
        assert!(matches!(r, GraphRoute::AppOwnerRef(Key::Id(_), None)));
        assert_eq!(t, "/applications/{}/owners/$ref");
    }
}
