//! Which `api-version` values each ARM route accepts, and ARM's answer when it does not:
//!
//! * missing: 400 `MissingApiVersionParameter`, "The api-version query parameter
//!   (?api-version=) is required for all requests." (what management.azure.com answers,
//!   MicrosoftDocs/feedback#2279, cloudquery/cloudquery#6626);
//! * unknown, on a resource provider's type (Microsoft.DigitalTwins): 400
//!   `NoRegisteredProviderFound`, "No registered resource provider found for location '{loc}' and
//!   API version '{v}' for type '{type}'. The supported api-versions are '...'. The supported
//!   locations are '...'." (Azure/azure-cli#28496; location `*` for calls without one,
//!   Azure/azure-sdk-for-js#4097);
//! * unknown, on Microsoft.Authorization: 404 `InvalidResourceType`, "The resource type
//!   '{type}' could not be found in the namespace 'Microsoft.Authorization' for api version '{v}'.
//!   The supported api-versions are '...'." (Azure/azure-sdk-for-go#16699, Azure/acs-engine#4037,
//!   whose deployment detail carries the 404 `NotFound`);
//! * unknown, on ARM's own types (resource groups, subscriptions): 400
//!   `InvalidApiVersionParameter`, "The api-version '{v}' is invalid. The supported versions are
//!   '...'." (Azure/azure-sdk-for-node#3638).

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
        ResourceGroups { .. }
        | ResourceGroup { .. }
        | ResourceGroupResources { .. }
        | ResourcesOperation { .. } => (Some(RESOURCES), "Microsoft.Resources/resourceGroups"),
        Tags { .. } => (Some(RESOURCES), "Microsoft.Resources/tags"),
        DtCheckName { .. }
        | DtOperationStatus { .. }
        | DtOperationResult { .. }
        | DtListSubscription { .. }
        | DtListResourceGroup { .. }
        | DtInstance { .. }
        | DtEndpoints { .. } => (
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
            "MissingApiVersionParameter",
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
    let Some(list) = list else {
        return Err(ApiError::bad_request(
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{v}' is invalid. The supported versions are of the form YYYY-MM-DD, for example '2022-12-01'."
            ),
        ));
    };
    let versions = list.iter().rev().copied().collect::<Vec<_>>().join(",");
    let (namespace, short_type) = type_name.split_once('/').unwrap_or(("", type_name));
    Err(match namespace {
        "Microsoft.Authorization" => ApiError::not_found(
            "InvalidResourceType",
            format!(
                "The resource type '{short_type}' could not be found in the namespace '{namespace}' for api version '{v}'. The supported api-versions are '{versions}'."
            ),
        ),
        "Microsoft.DigitalTwins" => ApiError::bad_request(
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location '{}' and API version '{v}' for type '{short_type}'. The supported api-versions are '{}'. The supported locations are '{}'.",
                route_location(route).unwrap_or("*"),
                list.iter().rev().copied().collect::<Vec<_>>().join(", "),
                crate::regions::digital_twins_regions().join(", ")
            ),
        ),
        _ => ApiError::bad_request(
            "InvalidApiVersionParameter",
            format!("The api-version '{v}' is invalid. The supported versions are '{versions}'."),
        ),
    })
}

/// The location a route names in its path, if any.
fn route_location(route: &ArmRoute) -> Option<&str> {
    use ArmRoute::*;
    match route {
        DtCheckName { loc, .. } | DtOperationStatus { loc, .. } | DtOperationResult { loc, .. } => {
            Some(loc)
        }
        _ => None,
    }
}
