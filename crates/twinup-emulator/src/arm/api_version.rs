//! Which `api-version` values each ARM route accepts; a missing or unsupported one is a 400
//! `InvalidApiVersionParameter`.

use crate::errors::ApiError;
use crate::http::Req;

use super::routes::ArmRoute;

pub(crate) const DIGITAL_TWINS: &[&str] = &[
    "2020-03-01-preview",
    "2020-10-31",
    "2020-12-01",
    "2021-06-30-preview",
    "2022-05-31",
    "2022-10-31",
    "2023-01-31",
];
pub(crate) const RESOURCES: &[&str] = &[
    "2014-04-01",
    "2015-01-01",
    "2015-11-01",
    "2016-02-01",
    "2016-06-01",
    "2016-07-01",
    "2016-09-01",
    "2017-05-10",
    "2018-02-01",
    "2018-05-01",
    "2019-03-01",
    "2019-05-01",
    "2019-05-10",
    "2019-07-01",
    "2019-08-01",
    "2019-10-01",
    "2020-06-01",
    "2020-08-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
];
pub(crate) const ROLE_ASSIGNMENTS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2018-09-01-preview",
    "2020-03-01-preview",
    "2020-04-01-preview",
    "2020-08-01-preview",
    "2020-10-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
];
pub(crate) const ROLE_DEFINITIONS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2022-04-01",
    "2022-05-01-preview",
];

/// Any well-formed `YYYY-MM-DD` or `YYYY-MM-DD-preview` (routes without a fixed list).
fn well_formed(v: &str) -> bool {
    let date = v.strip_suffix("-preview").unwrap_or(v);
    let b = date.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn supported(route: &ArmRoute) -> (Option<&'static [&'static str]>, &'static str) {
    use ArmRoute::*;
    match route {
        ResourceGroups { .. } | ResourceGroup { .. } | ResourcesOperation { .. } => {
            (Some(RESOURCES), "Microsoft.Resources/resourceGroups")
        }
        Tags { .. } => (Some(RESOURCES), "Microsoft.Resources/tags"),
        DtCheckName { .. }
        | DtOperationStatus { .. }
        | DtOperationResult { .. }
        | DtListSubscription { .. }
        | DtListResourceGroup { .. }
        | DtInstance { .. } => (
            Some(DIGITAL_TWINS),
            "Microsoft.DigitalTwins/digitalTwinsInstances",
        ),
        RoleAssignments { .. } | RoleAssignment { .. } => (
            Some(ROLE_ASSIGNMENTS),
            "Microsoft.Authorization/roleAssignments",
        ),
        RoleDefinitions { .. } | RoleDefinition { .. } | Permissions { .. } => (
            Some(ROLE_DEFINITIONS),
            "Microsoft.Authorization/roleDefinitions",
        ),
        Subscriptions | Subscription { .. } | Provider { .. } | ProviderRegister { .. } => {
            (None, "Microsoft.Resources/subscriptions")
        }
        Generic { .. } => (None, "the requested resource type"),
    }
}

/// The request's api-version if the route accepts it.
pub(crate) fn check(route: &ArmRoute, req: &Req) -> Result<String, ApiError> {
    let Some(v) = req.query_param("api-version").filter(|v| !v.is_empty()) else {
        return Err(ApiError::bad_request(
            "InvalidApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let (list, type_name) = supported(route);
    let ok = match list {
        Some(l) => l.iter().any(|x| x.eq_ignore_ascii_case(v)),
        None => well_formed(v),
    };
    if ok {
        return Ok(v.to_string());
    }
    let hint = match list {
        Some(l) => format!("The supported api-versions are '{}'.", l.join(", ")),
        None => "Use the form YYYY-MM-DD, for example '2022-12-01'.".to_string(),
    };
    Err(ApiError::bad_request(
        "InvalidApiVersionParameter",
        format!("The api-version '{v}' is invalid for {type_name}. {hint}"),
    ))
}
