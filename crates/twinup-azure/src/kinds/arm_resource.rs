//! `azure.arm_resource`: any ARM resource by id, api-version and body. Reads first and skips
//! the PUT when the live resource already has every field of the body; long-running PUTs save
//! their operation token before waiting.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};
use twinup_engine::{
    Applied, FieldError, KindSchema, LiveState, Outputs, StepContext, StepError, StepKind,
};

use super::fields::{self, Checker};
use super::{AzureContext, delete_arm, normalize_scope, wait_for};
use crate::lro::{self, LroToken, Started};

/// The `azure.arm_resource` kind.
pub struct ArmResourceKind {
    ctx: Arc<AzureContext>,
}

/// True if every field of `want` is present and equal in `live` (objects compared recursively,
/// strings case-insensitively for `location`).
pub fn contains(live: &Value, want: &Value) -> bool {
    match (live, want) {
        (Value::Object(l), Value::Object(w)) => w.iter().all(|(k, wv)| match l.get(k) {
            Some(lv) if k == "location" => match (lv.as_str(), wv.as_str()) {
                (Some(a), Some(b)) => super::resource_group::same_location(a, b),
                _ => lv == wv,
            },
            Some(lv) => contains(lv, wv),
            None => wv.is_null(),
        }),
        _ => live == want,
    }
}

/// True if the live resource has every field of `body` and no operation is running on it.
pub(crate) fn up_to_date(live: &Value, body: &Value) -> bool {
    contains(live, body)
        && lro::provisioning_state(live).is_none_or(|s| s.eq_ignore_ascii_case("Succeeded"))
}

/// PUTs `body` at `id` and returns the resource once written. A long-running PUT saves
/// `token_of(operation)` as the step's resume token before waiting.
pub(crate) async fn put_and_wait(
    azure: &AzureContext,
    ctx: &StepContext,
    id: &str,
    api: &str,
    body: &Value,
    token_of: impl Fn(&LroToken) -> Value,
) -> Result<Value, StepError> {
    let arm = azure.arm();
    ctx.progress(format!("writing {id}"));
    let url = arm.url(id, api, &[])?;
    let initial = arm.put(id, api, body).await?;
    match lro::start(&Method::PUT, &url, initial, id)? {
        Started::Done(r) if !r.body.is_null() => Ok(r.body),
        Started::Done(_) => Ok(arm.get(id, api).await?.body),
        Started::Pending(token) => {
            ctx.save_resume_token(token_of(&token)).await?;
            wait_for(azure, ctx, &token, id).await
        }
    }
}

fn outputs_of(id: &str, body: &Value) -> Outputs {
    fields::outputs(json!({
        "id": body.get("id").and_then(Value::as_str).unwrap_or(id),
        "properties": body.get("properties").cloned().unwrap_or(json!({})),
    }))
}

impl ArmResourceKind {
    /// The kind over a shared context.
    pub fn new(ctx: Arc<AzureContext>) -> Self {
        ArmResourceKind { ctx }
    }
}

/// The schema of `ArmResourceKind` steps: name, fields, outputs, comparison; needs no connection.
pub struct ArmResourceSchema;

impl KindSchema for ArmResourceSchema {
    fn name(&self) -> &'static str {
        "azure.arm_resource"
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["id", "properties"]
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut c = Checker::new(self.name(), with, &["id", "api_version", "body"]);
        if let Some(id) = c.required_str(
            "id",
            "the resource's ARM id, /subscriptions/.../providers/...",
        ) && !id
            .trim_start_matches('/')
            .to_ascii_lowercase()
            .starts_with("subscriptions/")
        {
            c.errors.push(FieldError::new(
                "id",
                format!("'{id}' is not an ARM resource id"),
                "start with /subscriptions/{id}/",
            ));
        }
        c.required_str(
            "api_version",
            "the resource provider's api-version, e.g. 2023-01-31",
        );
        match c.get("body") {
            Some(Value::Object(_)) => {}
            _ => c.errors.push(FieldError::new(
                "body",
                "`body` must be a mapping",
                "give the PUT body, e.g. `body: {location: westeurope}`",
            )),
        }
        c.errors
    }

    fn normalize(&self, field: &str, value: &Value) -> Value {
        super::compare::normalize(field, value)
    }
}

#[async_trait]
impl StepKind for ArmResourceKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &ArmResourceSchema
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        let id = normalize_scope(&fields::string(with, "id")?);
        let api = fields::string(with, "api_version")?;
        let body = with.get("body").cloned().unwrap_or(json!({}));
        let arm = self.ctx.arm();
        let live = arm.get_optional(&id, &api).await?;
        let created = live.is_none();
        if created {
            ctx.note_creating().await?;
        }
        if let Some(live) = live
            && up_to_date(&live.body, &body)
        {
            ctx.progress(format!("{id} is up to date"));
            return Ok(Applied::existing(outputs_of(&id, &live.body)));
        }
        let written = put_and_wait(&self.ctx, ctx, &id, &api, &body, LroToken::to_value).await?;
        Ok(Applied::created_if(created, outputs_of(&id, &written)))
    }

    async fn resume(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: &Value,
    ) -> Result<Applied, StepError> {
        let id = normalize_scope(&fields::string(with, "id")?);
        match LroToken::from_value(token) {
            Ok(token) => {
                let body = wait_for(&self.ctx, ctx, &token, &id).await?;
                Ok(Applied::resumed(outputs_of(&id, &body)))
            }
            Err(_) => self.apply(ctx, with).await,
        }
    }

    async fn read(&self, _ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        let id = normalize_scope(&fields::string(with, "id")?);
        let api = fields::string(with, "api_version")?;
        Ok(match self.ctx.arm().get_optional(&id, &api).await? {
            None => LiveState::Absent,
            Some(r) => LiveState::Present { properties: r.body },
        })
    }

    async fn delete(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: Option<&Value>,
    ) -> Result<(), StepError> {
        let id = normalize_scope(&fields::string(with, "id")?);
        let api = fields::string(with, "api_version")?;
        delete_arm(&self.ctx, ctx, &id, &api, token, &id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_ignores_extra_live_fields() {
        let live =
            json!({"location":"westus2","tags":{"a":"1"},"properties":{"x":1,"y":2},"id":"i"});
        assert!(contains(
            &live,
            &json!({"location":"West US 2","properties":{"x":1}})
        ));
        assert!(!contains(&live, &json!({"properties":{"x":2}})));
        assert!(!contains(&live, &json!({"tags":{"b":"1"}})));
    }
}
