//! ARM URL grammar: turns path segments (matched case-insensitively, as ARM does) into a route
//! with its captured names and a canonical template for the request log.

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[derive(Debug, Clone)]
pub(crate) enum ArmRoute {
    Subscriptions,
    Subscription {
        sub: String,
    },
    ResourceGroups {
        sub: String,
    },
    ResourceGroup {
        sub: String,
        rg: String,
    },
    /// `.../resourcegroups/{rg}/resources`: the group's top-level resources.
    ResourceGroupResources {
        sub: String,
        rg: String,
    },
    ResourcesOperation {
        sub: String,
        op: String,
    },
    Provider {
        sub: String,
        ns: String,
    },
    ProviderRegister {
        sub: String,
        ns: String,
    },
    DtCheckName {
        sub: String,
        loc: String,
    },
    DtOperationStatus {
        sub: String,
        loc: String,
        op: String,
    },
    DtOperationResult {
        sub: String,
        loc: String,
        op: String,
    },
    DtListSubscription {
        sub: String,
    },
    DtListResourceGroup {
        sub: String,
        rg: String,
    },
    DtInstance {
        sub: String,
        rg: String,
        name: String,
    },
    /// `.../digitalTwinsInstances/{name}/{endpoints|timeSeriesDatabaseConnections}[/{child}]`
    /// (list, or one).
    DtEndpoints {
        sub: String,
        rg: String,
        name: String,
        collection: String,
        endpoint: Option<String>,
    },
    RoleAssignments {
        scope: String,
    },
    RoleAssignment {
        scope: String,
        name: String,
    },
    RoleDefinitions {
        scope: String,
    },
    RoleDefinition {
        scope: String,
        id: String,
    },
    Permissions {
        scope: String,
    },
    /// `{scope}/providers/Microsoft.Resources/tags/default` (the Tags API at a scope).
    Tags {
        scope: String,
    },
    /// Any other provider resource, stored as given. `id` is the normalised ARM id.
    Generic {
        sub: String,
        rg: Option<String>,
        id: String,
        type_name: String,
        name: String,
    },
}

impl ArmRoute {
    /// The subscription the request is about, if any (for throttling and existence checks).
    pub fn subscription(&self) -> Option<&str> {
        use ArmRoute::*;
        match self {
            Subscriptions => None,
            Subscription { sub }
            | ResourceGroups { sub }
            | ResourceGroup { sub, .. }
            | ResourceGroupResources { sub, .. }
            | ResourcesOperation { sub, .. }
            | Provider { sub, .. }
            | ProviderRegister { sub, .. }
            | DtCheckName { sub, .. }
            | DtOperationStatus { sub, .. }
            | DtOperationResult { sub, .. }
            | DtListSubscription { sub }
            | DtListResourceGroup { sub, .. }
            | DtInstance { sub, .. }
            | DtEndpoints { sub, .. }
            | Generic { sub, .. } => Some(sub),
            RoleAssignments { scope }
            | RoleAssignment { scope, .. }
            | RoleDefinitions { scope }
            | RoleDefinition { scope, .. }
            | Permissions { scope }
            | Tags { scope } => {
                let segs: Vec<&str> = scope.split('/').filter(|s| !s.is_empty()).collect();
                match segs.as_slice() {
                    [s, sub, ..] if eq(s, "subscriptions") => Some(sub),
                    _ => None,
                }
            }
        }
    }
}

impl ArmRoute {
    /// The resource provider namespace whose registration the route needs (not for
    /// Microsoft.Resources, Microsoft.Authorization or the registration routes themselves).
    pub fn namespace(&self) -> Option<String> {
        use ArmRoute::*;
        match self {
            DtCheckName { .. }
            | DtOperationStatus { .. }
            | DtOperationResult { .. }
            | DtListSubscription { .. }
            | DtListResourceGroup { .. }
            | DtInstance { .. }
            | DtEndpoints { .. } => Some("Microsoft.DigitalTwins".into()),
            Generic { type_name, .. } => type_name.split('/').next().map(str::to_string),
            _ => None,
        }
    }
}

fn scope_of(segs: &[String]) -> String {
    format!("/{}", segs.join("/"))
}

fn scope_template(segs: &[String]) -> String {
    let mut out = String::new();
    let mut i = 0;
    let n = segs.len();
    while i < n {
        let s = &segs[i];
        if eq(s, "subscriptions") || eq(s, "resourceGroups") {
            out.push_str(if eq(s, "subscriptions") {
                "/subscriptions"
            } else {
                "/resourceGroups"
            });
            if i + 1 < n {
                out.push_str("/{}");
            }
            i += 2;
        } else if eq(s, "providers") && i + 1 < n {
            out.push_str("/providers/");
            out.push_str(&segs[i + 1]);
            i += 2;
            while i < n && !eq(&segs[i], "providers") {
                out.push('/');
                out.push_str(&segs[i]);
                if i + 1 < n {
                    out.push_str("/{}");
                }
                i += 2;
            }
        } else {
            out.push_str("/{}");
            i += 1;
        }
    }
    out
}

/// Classifies ARM path segments.
pub(crate) fn classify(segs: &[String]) -> Option<(ArmRoute, String)> {
    use ArmRoute::*;
    // Microsoft.Authorization resources hang off any scope; the scope may itself contain /providers/.
    if let Some(i) = (0..segs.len().saturating_sub(1))
        .rev()
        .find(|&i| eq(&segs[i], "providers") && eq(&segs[i + 1], "Microsoft.Authorization"))
    {
        let scope = scope_of(&segs[..i]);
        let st = scope_template(&segs[..i]);
        let rest = &segs[i + 2..];
        return match rest {
            [t] if eq(t, "roleAssignments") => Some((
                RoleAssignments { scope },
                format!("{st}/providers/Microsoft.Authorization/roleAssignments"),
            )),
            [t, n] if eq(t, "roleAssignments") => Some((
                RoleAssignment {
                    scope,
                    name: n.clone(),
                },
                format!("{st}/providers/Microsoft.Authorization/roleAssignments/{{}}"),
            )),
            [t] if eq(t, "roleDefinitions") => Some((
                RoleDefinitions { scope },
                format!("{st}/providers/Microsoft.Authorization/roleDefinitions"),
            )),
            [t, n] if eq(t, "roleDefinitions") => Some((
                RoleDefinition {
                    scope,
                    id: n.clone(),
                },
                format!("{st}/providers/Microsoft.Authorization/roleDefinitions/{{}}"),
            )),
            [t] if eq(t, "permissions") => Some((
                Permissions { scope },
                format!("{st}/providers/Microsoft.Authorization/permissions"),
            )),
            _ => None,
        };
    }
    // The Tags API hangs off a resource group or resource: `.../providers/Microsoft.Resources/tags/default`.
    if let [head @ .., p, ns, t, d] = segs
        && eq(p, "providers")
        && eq(ns, "Microsoft.Resources")
        && eq(t, "tags")
        && eq(d, "default")
        && !head.is_empty()
    {
        return Some((
            Tags {
                scope: scope_of(head),
            },
            format!(
                "{}/providers/Microsoft.Resources/tags/default",
                scope_template(head)
            ),
        ));
    }
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    const DT_NS: &str = "Microsoft.DigitalTwins";
    const DT_TYPE: &str = "digitalTwinsInstances";
    let r = match s.as_slice() {
        [a] if eq(a, "subscriptions") => (Subscriptions, "/subscriptions".to_string()),
        [a, sub] if eq(a, "subscriptions") => (
            Subscription { sub: sub.to_string() },
            "/subscriptions/{}".into(),
        ),
        [a, sub, b] if eq(a, "subscriptions") && eq(b, "resourceGroups") => (
            ResourceGroups { sub: sub.to_string() },
            "/subscriptions/{}/resourceGroups".into(),
        ),
        [a, sub, b, rg] if eq(a, "subscriptions") && eq(b, "resourceGroups") => (
            ResourceGroup { sub: sub.to_string(), rg: rg.to_string() },
            "/subscriptions/{}/resourceGroups/{}".into(),
        ),
        [a, sub, b, rg, r] if eq(a, "subscriptions") && eq(b, "resourceGroups") && eq(r, "resources") => (
            ResourceGroupResources { sub: sub.to_string(), rg: rg.to_string() },
            "/subscriptions/{}/resourceGroups/{}/resources".into(),
        ),
        [a, sub, b, op] if eq(a, "subscriptions") && eq(b, "operationresults") => (
            ResourcesOperation { sub: sub.to_string(), op: op.to_string() },
            "/subscriptions/{}/operationresults/{}".into(),
        ),
        [a, sub, p, ns] if eq(a, "subscriptions") && eq(p, "providers") => (
            Provider { sub: sub.to_string(), ns: ns.to_string() },
            format!("/subscriptions/{{}}/providers/{ns}"),
        ),
        [a, sub, p, ns, r] if eq(a, "subscriptions") && eq(p, "providers") && eq(r, "register") => (
            ProviderRegister { sub: sub.to_string(), ns: ns.to_string() },
            format!("/subscriptions/{{}}/providers/{ns}/register"),
        ),
        [a, sub, p, ns, l, loc, c]
            if eq(a, "subscriptions") && eq(p, "providers") && eq(ns, DT_NS) && eq(l, "locations") && eq(c, "checkNameAvailability") =>
        (
            DtCheckName { sub: sub.to_string(), loc: loc.to_string() },
            "/subscriptions/{}/providers/Microsoft.DigitalTwins/locations/{}/checkNameAvailability".into(),
        ),
        [a, sub, p, ns, l, loc, k, op]
            if eq(a, "subscriptions") && eq(p, "providers") && eq(ns, DT_NS) && eq(l, "locations") && eq(k, "operationStatuses") =>
        (
            DtOperationStatus { sub: sub.to_string(), loc: loc.to_string(), op: op.to_string() },
            "/subscriptions/{}/providers/Microsoft.DigitalTwins/locations/{}/operationStatuses/{}".into(),
        ),
        [a, sub, p, ns, l, loc, k, op]
            if eq(a, "subscriptions") && eq(p, "providers") && eq(ns, DT_NS) && eq(l, "locations") && eq(k, "operationResults") =>
        (
            DtOperationResult { sub: sub.to_string(), loc: loc.to_string(), op: op.to_string() },
            "/subscriptions/{}/providers/Microsoft.DigitalTwins/locations/{}/operationResults/{}".into(),
        ),
        [a, sub, p, ns, t] if eq(a, "subscriptions") && eq(p, "providers") && eq(ns, DT_NS) && eq(t, DT_TYPE) => (
            DtListSubscription { sub: sub.to_string() },
            "/subscriptions/{}/providers/Microsoft.DigitalTwins/digitalTwinsInstances".into(),
        ),
        [a, sub, b, rg, p, ns, t]
            if eq(a, "subscriptions") && eq(b, "resourceGroups") && eq(p, "providers") && eq(ns, DT_NS) && eq(t, DT_TYPE) =>
        (
            DtListResourceGroup { sub: sub.to_string(), rg: rg.to_string() },
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DigitalTwins/digitalTwinsInstances".into(),
        ),
        [a, sub, b, rg, p, ns, t, name]
            if eq(a, "subscriptions") && eq(b, "resourceGroups") && eq(p, "providers") && eq(ns, DT_NS) && eq(t, DT_TYPE) =>
        (
            DtInstance { sub: sub.to_string(), rg: rg.to_string(), name: name.to_string() },
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{}".into(),
        ),
        [a, sub, b, rg, p, ns, t, name, e, endpoint @ ..]
            if eq(a, "subscriptions") && eq(b, "resourceGroups") && eq(p, "providers") && eq(ns, DT_NS) && eq(t, DT_TYPE) && super::dt_endpoints::collection(e).is_some() && endpoint.len() <= 1 =>
        {
            let segment = super::dt_endpoints::collection(e).map_or("endpoints", |c| c.segment);
            (
                DtEndpoints { sub: sub.to_string(), rg: rg.to_string(), name: name.to_string(), collection: segment.to_string(), endpoint: endpoint.first().map(|x| x.to_string()) },
                format!("/subscriptions/{{}}/resourceGroups/{{}}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{{}}/{segment}{}", if endpoint.is_empty() { "" } else { "/{}" }),
            )
        }
        [a, sub, b, rg, p, ns, rest @ ..]
            if eq(a, "subscriptions") && eq(b, "resourceGroups") && eq(p, "providers") && !rest.is_empty() && rest.len() % 2 == 0 =>
        {
            let (type_name, name, tail) = generic_parts(ns, rest);
            (
                Generic {
                    sub: sub.to_string(),
                    rg: Some(rg.to_string()),
                    id: format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{}", rest.join("/")),
                    type_name,
                    name,
                },
                format!("/subscriptions/{{}}/resourceGroups/{{}}/providers/{ns}{tail}"),
            )
        }
        [a, sub, p, ns, rest @ ..]
            if eq(a, "subscriptions") && eq(p, "providers") && !rest.is_empty() && rest.len() % 2 == 0 =>
        {
            let (type_name, name, tail) = generic_parts(ns, rest);
            (
                Generic {
                    sub: sub.to_string(),
                    rg: None,
                    id: format!("/subscriptions/{sub}/providers/{ns}/{}", rest.join("/")),
                    type_name,
                    name,
                },
                format!("/subscriptions/{{}}/providers/{ns}{tail}"),
            )
        }
        _ => return None,
    };
    Some(r)
}

/// `(type, name, template tail)` of a generic resource path `type/name[/type/name...]`.
fn generic_parts(ns: &str, rest: &[&str]) -> (String, String, String) {
    let types: Vec<&str> = rest.iter().step_by(2).copied().collect();
    let name = rest.last().map(|s| s.to_string()).unwrap_or_default();
    let tail: String = types.iter().map(|t| format!("/{t}/{{}}")).collect();
    (format!("{ns}/{}", types.join("/")), name, tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::segments;

    fn c(path: &str) -> (ArmRoute, String) {
        classify(&segments(path)).unwrap()
    }

    #[test]
    fn paths_are_case_insensitive_and_templates_canonical() {
        let (r, t) = c(
            "/SUBSCRIPTIONS/abc/resourcegroups/rg1/providers/microsoft.digitaltwins/DIGITALTWINSINSTANCES/adt1",
        );
        assert!(matches!(r, ArmRoute::DtInstance { ref name, .. } if name == "adt1"));
        assert_eq!(
            t,
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{}"
        );
    }

    #[test]
    fn role_assignments_take_any_scope() {
        let (r, t) = c(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/x/providers/Microsoft.Authorization/roleAssignments/g",
        );
        match r {
            ArmRoute::RoleAssignment { scope, name } => {
                assert_eq!(
                    scope,
                    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/x"
                );
                assert_eq!(name, "g");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            t,
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{}/providers/Microsoft.Authorization/roleAssignments/{}"
        );
        assert!(
            r_sub("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments").is_some()
        );
    }

    fn r_sub(p: &str) -> Option<String> {
        c(p).0.subscription().map(str::to_string)
    }

    #[test]
    fn other_provider_resources_are_generic() {
        let (r, t) = c(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDb/databaseAccounts/db",
        );
        assert!(
            matches!(r, ArmRoute::Generic { ref type_name, .. } if type_name == "Microsoft.DocumentDb/databaseAccounts")
        );
        assert_eq!(
            t,
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DocumentDb/databaseAccounts/{}"
        );
    }
}
