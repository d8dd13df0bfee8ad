//! The `owners` of `azure.ad_application`: users (by UPN or object id) added as owners of the
//! app registration. A UPN is resolved with `GET /users/{upn}`; an owner is added with
//! `POST /applications/{id}/owners/$ref` only when `GET /applications/{id}/owners` does not
//! list it yet, so a rerun adds nothing twice. Owners the plan no longer names are left: they
//! may have been added by someone else (Graph v1.0 "Add owner" and "List owners" of
//! application).

use serde_json::Value;
use twinup_engine::{FieldError, StepContext, StepError};

use super::fields::Checker;
use crate::graph::GraphClient;

/// What a caller needs to add owners (Graph v1.0 "Add owner" of application: delegated
/// `Application.ReadWrite.All` and `Directory.Read.All`; app-only the same, since
/// `Application.ReadWrite.OwnedBy` is not enough to add another owner).
const OWNER_PERMISSION: &str = "Application.ReadWrite.All (with Directory.Read.All)";

/// True for an object id (a GUID), which is used as it is.
fn is_object_id(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok()
}

/// Checks `owners`: a list of object ids or user principal names (`name@domain`).
pub fn validate(c: &mut Checker<'_>) {
    match c.get("owners") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.iter().all(super::fields::string_or_unknown) => {
            for (i, item) in items.iter().enumerate() {
                let Some(text) = item.as_str().map(str::trim) else {
                    continue; // not known before the run
                };
                if is_object_id(text) {
                    continue;
                }
                let upn = text.split_once('@').is_some_and(|(user, domain)| {
                    !user.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace)
                });
                if !upn {
                    c.errors.push(FieldError::new(
                        format!("owners[{i}]"),
                        format!("`{text}` is neither a user principal name nor an object id"),
                        "give a UPN such as alice@contoso.com or a user's object id (az ad user show --id alice@contoso.com --query id)",
                    ));
                }
            }
        }
        Some(v) if twinup_engine::contains_unknown(v) => {}
        Some(_) => c.errors.push(FieldError::new(
            "owners",
            "`owners` must be a list of UPNs or object ids",
            "e.g. `owners: [alice@contoso.com]`",
        )),
    }
}

fn forbidden(action: &str, e: &crate::errors::AzureError) -> StepError {
    StepError::failed(format!(
        "the signed-in principal may not {action} ({e})"
    ))
    .with_help(format!(
        "adding app owners needs {OWNER_PERMISSION}, or a role such as Cloud Application Administrator; ask an administrator, or remove `app_owners` and add the owners in the portal"
    ))
}

fn not_a_user(owner: &str) -> StepError {
    StepError::rejected(format!("app owner {owner} is not a user in this tenant"))
        .with_help("check the UPN (az ad user show --id <upn>), or give the user's object id")
}

/// Before anything is written: every owner given by UPN must be a user of the tenant. A caller
/// that may not read users is warned; adding the owners will tell.
pub async fn preflight(
    ctx: &StepContext,
    graph: &GraphClient,
    wanted: &[String],
) -> Result<(), StepError> {
    for owner in wanted.iter().filter(|o| !is_object_id(o)) {
        match graph.get_user(owner).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(not_a_user(owner)),
            Err(e) if e.is_forbidden() => {
                ctx.progress(format!(
                    "warning: app owner {owner} could not be looked up ({e}); adding the owners will tell"
                ));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Adds every owner `wanted` names that the app `object_id` does not have yet.
pub async fn ensure(
    ctx: &StepContext,
    graph: &GraphClient,
    object_id: &str,
    wanted: &[String],
) -> Result<(), StepError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let have = graph
        .list_application_owners(object_id)
        .await
        .map_err(|e| {
            if e.is_forbidden() {
                forbidden("read the app's owners", &e)
            } else {
                e.into()
            }
        })?;
    for owner in wanted {
        let id = if is_object_id(owner) {
            owner.to_ascii_lowercase()
        } else {
            match graph.get_user(owner).await {
                Ok(Some(user)) => user.id.to_ascii_lowercase(),
                Ok(None) => return Err(not_a_user(owner)),
                Err(e) if e.is_forbidden() => return Err(forbidden("look up users", &e)),
                Err(e) => return Err(e.into()),
            }
        };
        if have.iter().any(|h| h.eq_ignore_ascii_case(&id)) {
            continue;
        }
        ctx.progress(format!(
            "adding {owner} as an owner of the app registration"
        ));
        match graph.add_application_owner(object_id, &id).await {
            Ok(()) => {}
            Err(e) if e.is_forbidden() => return Err(forbidden("add app owners", &e)),
            Err(e) if e.is_not_found() => {
                return Err(StepError::rejected(format!(
                    "app owner {owner} (object id {id}) is not in this directory"
                ))
                .with_help("give the object id of a user in this tenant"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
