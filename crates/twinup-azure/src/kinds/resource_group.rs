//! `azure.resource_group`: makes sure a resource group exists with the given location and tags.
//! Reads first and writes only when something differs, so a rerun sends no PUT. On a group that
//! exists the plan's tags are merged in (Tags API), never replacing tags others set.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use twinup_engine::{
    Applied, FieldError, KindSchema, LiveState, Outputs, Replacement, StepContext, StepError,
    StepKind,
};

use super::fields::{self, Checker};
use super::{AzureContext, delete_arm, tags};

/// API version of Microsoft.Resources used for resource groups.
pub const API_VERSION: &str = "2025-04-01";

/// The `azure.resource_group` kind.
pub struct ResourceGroupKind {
    ctx: Arc<AzureContext>,
}

impl ResourceGroupKind {
    /// The kind over a shared context.
    pub fn new(ctx: Arc<AzureContext>) -> Self {
        ResourceGroupKind { ctx }
    }

    fn path(&self, with: &Value) -> Result<(String, String), StepError> {
        let sub = self.ctx.subscription(with)?;
        let name = fields::string(with, "name")?;
        Ok((format!("/subscriptions/{sub}/resourceGroups/{name}"), name))
    }
}

/// The fields that name a group: another subscription, name or location is another group.
const IDENTIFYING: &[&str] = &["subscription_id", "name", "location"];

/// Compares Azure locations the way ARM does (`West US 2` = `westus2`).
pub fn same_location(a: &str, b: &str) -> bool {
    crate::regions::normalize(a) == crate::regions::normalize(b)
}

/// True if `name` is a valid resource group name (1-90 of letters, digits, `-_.()`, not ending in `.`).
pub fn valid_name(name: &str) -> bool {
    (1..=90).contains(&name.chars().count())
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.()".contains(c))
}

fn outputs_of(body: &Value, name: &str) -> Outputs {
    fields::outputs(json!({
        "id": body.get("id").cloned().unwrap_or(Value::Null),
        "name": body.get("name").and_then(Value::as_str).unwrap_or(name),
        "location": body.get("location").cloned().unwrap_or(Value::Null),
    }))
}

/// A group that was there already, with why it would not be this deployment's.
fn found(body: &Value, name: &str) -> Applied {
    Applied::existing(outputs_of(body, name)).because(format!(
        "resource group {name} existed before this deployment"
    ))
}

/// The schema of `ResourceGroupKind` steps: name, fields, outputs, comparison; needs no connection.
pub struct ResourceGroupSchema;

impl KindSchema for ResourceGroupSchema {
    fn name(&self) -> &'static str {
        "azure.resource_group"
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["id", "name", "location"]
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut c = Checker::new(
            self.name(),
            with,
            &["name", "location", "tags", "subscription_id"],
        );
        if let Some(name) = c.required_str(
            "name",
            "give the resource group name, e.g. `name: rg-twins`",
        ) && !valid_name(name)
        {
            c.errors.push(FieldError::new(
                "name",
                format!("'{name}' is not a valid resource group name"),
                "use 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'",
            ));
        }
        c.required_location("location");
        c.optional_tags("tags");
        c.optional_str("subscription_id", "a subscription id (GUID)");
        c.errors
    }

    fn normalize(&self, field: &str, value: &Value) -> Value {
        super::compare::normalize(field, value)
    }

    fn identifying_fields(&self) -> &'static [&'static str] {
        IDENTIFYING
    }
}

#[async_trait]
impl StepKind for ResourceGroupKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &ResourceGroupSchema
    }

    async fn preflight(&self, ctx: &StepContext, with: &Value) -> Result<(), StepError> {
        // Reads nothing: says what the step targets, for steps whose scope is this group.
        if !twinup_engine::contains_unknown(with) {
            let (path, _) = self.path(with)?;
            self.ctx.targets.insert(ctx.step_id(), &path);
            if let Some(r) = self.replacement(ctx, with) {
                super::refuse_foreign_move(&r)?;
            }
        }
        Ok(())
    }

    fn replacement(&self, ctx: &StepContext, with: &Value) -> Option<Replacement> {
        let (path, _) = self.path(with).ok()?;
        let location = fields::string(with, "location").ok()?;
        super::arm_replacement(ctx, "resource group", &path, &location, false)
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        let (path, name) = self.path(with)?;
        let location = fields::string(with, "location")?;
        let arm = self.ctx.arm();
        let replacing = self.replacement(ctx, with);
        if let Some(r) = &replacing
            && r.deletes_first
        {
            // The same name elsewhere: the group this deployment created (and everything in
            // it) goes first, as confirmed; then it is created where the plan says.
            super::refuse_foreign_move(r)?;
            let what = format!("resource group {name} (replaced: it moves to {location})");
            delete_arm(&self.ctx, ctx, &path, API_VERSION, None, &what).await?;
        }
        if let Some(existing) = arm.get_optional(&path, API_VERSION).await? {
            let live_location = existing
                .body
                .get("location")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !same_location(live_location, &location) {
                return Err(StepError::rejected(format!(
                    "resource group {name} already exists in {live_location}, not {location}; a group's location cannot change"
                ))
                .with_help(format!("set `location: {live_location}` or choose another group name")));
            }
            let planned = tags::planned(with);
            let missing = tags::missing(&planned, &tags::live(&existing.body));
            if missing.is_empty() {
                ctx.progress(format!("resource group {name} exists"));
                return Ok(found(&existing.body, &name));
            }
            // Only the plan's keys are written: tags others put on the group stay.
            ctx.progress(format!("adding tags to resource group {name}"));
            let what = format!("tags of resource group {name}");
            tags::merge(&self.ctx, ctx, &path, &missing, &what).await?;
            return Ok(found(&existing.body, &name));
        }
        ctx.progress(format!("creating resource group {name} in {location}"));
        ctx.note_creating().await?;
        let mut body = json!({ "location": location });
        if let Some(tags) = with.get("tags").filter(|t| t.is_object()) {
            body["tags"] = tags.clone();
        }
        let response = arm.put(&path, API_VERSION, &body).await?;
        Ok(Applied::created(outputs_of(&response.body, &name)))
    }

    async fn read(&self, ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        // `verify` and the refresh read the group the step recorded.
        let path = match super::recorded_id(ctx) {
            Some(id) if ctx.read_at_record() => id,
            _ => self.path(with)?.0,
        };
        Ok(
            match self.ctx.arm().get_optional(&path, API_VERSION).await? {
                None => LiveState::Absent,
                Some(r) => LiveState::Present {
                    properties: json!({
                        "location": r.body.get("location"),
                        "tags": tags::as_planned(&tags::planned(with), &tags::live(&r.body)),
                    }),
                },
            },
        )
    }

    async fn delete(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: Option<&Value>,
    ) -> Result<(), StepError> {
        // The group the step recorded, never a re-render of the current plan.
        let path = match super::recorded_id(ctx) {
            Some(id) => id,
            None => self.path(with)?.0,
        };
        let what = format!("resource group {}", super::name_of(&path));
        if token.is_none() {
            self.refuse_if_others_inside(&path, &what).await?;
        }
        delete_arm(&self.ctx, ctx, &path, API_VERSION, token, &what).await
    }
}

impl ResourceGroupKind {
    /// Refuses to delete a group that still holds resources. By the time `down` (dependents
    /// first) or a replacement deletes a group this deployment created, what the deployment
    /// put in it is gone, so whatever is left was put there by someone else, and deleting the
    /// group would delete it too. Lists the group's top-level resources (resources.json
    /// `Resources_ListByResourceGroup`, `GET {group}/resources`).
    async fn refuse_if_others_inside(&self, path: &str, what: &str) -> Result<(), StepError> {
        let listed = self
            .ctx
            .arm()
            .get_optional(&format!("{path}/resources"), API_VERSION)
            .await?;
        let Some(listed) = listed else {
            return Ok(());
        };
        let inside: Vec<String> = listed
            .body
            .get("value")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|r| r.get("id").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let more = listed.body.get("nextLink").is_some_and(|l| !l.is_null());
        if inside.is_empty() && !more {
            return Ok(());
        }
        let shown: Vec<&str> = inside.iter().take(5).map(String::as_str).collect();
        let count = if more {
            format!("more than {}", inside.len())
        } else {
            inside.len().to_string()
        };
        Err(StepError::rejected(format!(
            "{what} was created by this deployment but now holds {count} resource(s) it did not make ({}{}); deleting the group would delete them too, so it was kept",
            shown.join(", "),
            if inside.len() > shown.len() { ", ..." } else { "" }
        ))
        .with_code("ResourceGroupNotEmpty")
        .with_help(
            "move or delete those resources (or the group, yourself), then run `twinup down` again",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_locations() {
        assert!(valid_name("rg-twins_1.(a)"));
        assert!(!valid_name("rg."));
        assert!(!valid_name(""));
        assert!(!valid_name("rg/x"));
        assert!(same_location("West US 2", "westus2"));
        assert!(!same_location("westus", "westus2"));
    }
}
