//! `azure.digital_twins_private_link`: a private endpoint for an instance and the DNS that makes
//! its host name resolve to it, as Learn's "Enable private access to Azure Digital Twins using
//! Private Link" sets it up: the private endpoint (`Microsoft.Network/privateEndpoints`, a
//! `privateLinkServiceConnections` entry with `groupIds: ["API"]` to the instance), the private
//! DNS zone Learn's "Azure Private Endpoint DNS zone values" table names for Digital Twins
//! (`privatelink.digitaltwins.azure.net`; the Government table's `privatelink.digitaltwins.azure.us`;
//! no row for Azure China), its virtual-network link to the subnet's network, and the
//! endpoint's private DNS zone group. Each part is read first and written through the generic
//! ARM machinery of `azure.arm_resource` (long-running PUTs save their operation first).
//! Ownership is per part and per id: the step records which parts it created under the ids
//! it records, and `down` deletes only those (a zone that already existed is used and kept).
//! Parts it made that the plan no longer names (turned off by an empty `subnet_id`, a renamed
//! instance, a zone in another group) are a replacement: deleted once the run is done, by
//! their recorded ids, keeping what the new private link still uses.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use twinup_engine::{
    Applied, FieldError, KindSchema, LiveState, Outputs, REPLACED_OUTPUT, Replacement, StepContext,
    StepError, StepKind,
};

use super::arm_resource::{put_and_wait, up_to_date};
use super::fields::{self, Checker};
use super::{AzureContext, delete_arm, name_of, normalize_scope, wait_for};
use crate::lro::LroToken;

/// api-version of `Microsoft.Network/privateEndpoints` (and its `privateDnsZoneGroups`).
const ENDPOINT_API: &str = "2023-09-01";
/// api-version of `Microsoft.Network/privateDnsZones` (and its `virtualNetworkLinks`).
const ZONE_API: &str = "2020-06-01";

/// One resource the step manages.
struct Part {
    /// Its name in the step's records (`private_endpoint`, `dns_zone`, ...).
    role: &'static str,
    id: String,
    api: &'static str,
    body: Value,
    /// Whether twinup derives its name (so a run that noted `creating` may claim it).
    derived_name: bool,
}

/// The `azure.digital_twins_private_link` kind.
pub struct PrivateLinkKind {
    ctx: Arc<AzureContext>,
}

impl PrivateLinkKind {
    /// The kind over a shared context.
    pub fn new(ctx: Arc<AzureContext>) -> Self {
        PrivateLinkKind { ctx }
    }

    /// The private DNS zone of this cloud's Digital Twins private endpoints.
    fn zone_name(&self) -> Result<&'static str, StepError> {
        self.ctx.endpoints.digital_twins_private_dns_zone.ok_or_else(|| {
            StepError::rejected(
                "Microsoft's private-endpoint DNS table names no private DNS zone for Azure Digital Twins in this cloud",
            )
            .with_help("leave private_endpoint_subnet_id empty and create the endpoint by hand")
        })
    }

    /// The parts, in creation order, for a `with` whose subnet is set.
    fn parts(&self, with: &Value) -> Result<Vec<Part>, StepError> {
        let subnet = normalize_scope(&fields::string(with, "subnet_id")?);
        let instance = normalize_scope(&fields::string(with, "instance_id")?);
        let location = fields::string(with, "location")?;
        let group = resource_group_of(&instance)?;
        let zone_group = fields::opt_string(with, "dns_zone_resource_group")
            .filter(|g| !g.is_empty())
            .map_or(group.clone(), |g| {
                format!("{}/resourceGroups/{g}", subscription_of(&instance))
            });
        let vnet = subnet
            .rsplit_once("/subnets/")
            .map(|(vnet, _)| vnet.to_string())
            .ok_or_else(|| StepError::rejected(format!("'{subnet}' is not a subnet id")))?;
        let name = name_of(&instance).to_string();
        let endpoint = format!("{group}/providers/Microsoft.Network/privateEndpoints/{name}-pe");
        let zone = format!(
            "{zone_group}/providers/Microsoft.Network/privateDnsZones/{}",
            self.zone_name()?
        );
        Ok(vec![
            Part {
                role: "private_endpoint",
                id: endpoint.clone(),
                api: ENDPOINT_API,
                body: json!({"location": location, "properties": {
                    "subnet": {"id": subnet},
                    "privateLinkServiceConnections": [{"name": format!("{name}-pe"), "properties": {
                        "privateLinkServiceId": instance, "groupIds": ["API"]}}]}}),
                derived_name: true,
            },
            Part {
                role: "dns_zone",
                id: zone.clone(),
                api: ZONE_API,
                body: json!({"location": "global"}),
                derived_name: false,
            },
            Part {
                role: "dns_zone_link",
                id: format!("{zone}/virtualNetworkLinks/{name}-link"),
                api: ZONE_API,
                body: json!({"location": "global", "properties": {
                    "virtualNetwork": {"id": vnet}, "registrationEnabled": false}}),
                derived_name: true,
            },
            Part {
                role: "dns_zone_group",
                id: format!("{endpoint}/privateDnsZoneGroups/default"),
                api: ENDPOINT_API,
                body: json!({"properties": {"privateDnsZoneConfigs": [{
                    "name": "privatelink-digitaltwins", "properties": {"privateDnsZoneId": zone}}]}}),
                derived_name: true,
            },
        ])
    }

    /// Converges every part; `claims` are the part ids earlier runs created (a part is this
    /// deployment's only under the id it was made with).
    async fn converge(
        &self,
        ctx: &StepContext,
        with: &Value,
        claims: &[String],
    ) -> Result<Applied, StepError> {
        let parts = self.parts(with)?;
        let arm = self.ctx.arm();
        let mut owned: Vec<String> = Vec::new();
        for part in &parts {
            match arm.get_optional(&part.id, part.api).await? {
                Some(live) => {
                    let ours = claims.iter().any(|c| c.eq_ignore_ascii_case(&part.id))
                        || (part.derived_name && ctx.was_creating());
                    if ours && !owned.iter().any(|o| o == part.role) {
                        owned.push(part.role.to_string());
                    }
                    if !ours {
                        ctx.progress(format!("{} exists already; it is used and kept", part.id));
                    } else if !up_to_date(&live.body, &part.body) {
                        self.write(ctx, part, &owned).await?;
                    }
                }
                None => {
                    ctx.note_creating().await?;
                    owned.push(part.role.to_string());
                    // Durable before the create, so a crash still knows the part is ours.
                    ctx.save_resume_token(journal(&owned, None)).await?;
                    self.write(ctx, part, &owned).await?;
                }
            }
        }
        Ok(outputs(&parts, &owned))
    }

    async fn write(
        &self,
        ctx: &StepContext,
        part: &Part,
        owned: &[String],
    ) -> Result<(), StepError> {
        put_and_wait(&self.ctx, ctx, &part.id, part.api, &part.body, |op| {
            journal(owned, Some(op))
        })
        .await
        .map(|_| ())
    }
}

/// The resume token: which parts this deployment created, and the operation in flight.
fn journal(owned: &[String], operation: Option<&LroToken>) -> Value {
    json!({"private_link_owned": owned, "operation": operation.map(LroToken::to_value)})
}

/// The parts a record names (for deleting them once the subnet is cleared): the endpoint and
/// zone ids it saved, and the link and zone group named after them as [`PrivateLinkKind`]
/// names them. Empty when the record made no part.
fn recorded_parts(recorded: &Outputs) -> Vec<Part> {
    let text = |k: &str| recorded.get(k).and_then(Value::as_str).unwrap_or_default();
    let (endpoint, zone) = (text("id"), text("private_dns_zone_id"));
    let Some(name) = endpoint
        .rsplit('/')
        .next()
        .and_then(|n| n.strip_suffix("-pe"))
        .filter(|n| !n.is_empty() && !zone.is_empty())
    else {
        return Vec::new();
    };
    let part = |role, id: String, api| Part {
        role,
        id,
        api,
        body: Value::Null,
        derived_name: true,
    };
    vec![
        part("private_endpoint", endpoint.to_string(), ENDPOINT_API),
        part("dns_zone", zone.to_string(), ZONE_API),
        part(
            "dns_zone_link",
            format!("{zone}/virtualNetworkLinks/{name}-link"),
            ZONE_API,
        ),
        part(
            "dns_zone_group",
            format!("{endpoint}/privateDnsZoneGroups/default"),
            ENDPOINT_API,
        ),
    ]
}

/// The part ids this deployment made, as the step's records say: its record's, and those of
/// replaced records not deleted yet (turned back on, or a zone both use). Each part the plan
/// still names under one of them is the deployment's.
fn claims(ctx: &StepContext) -> Vec<String> {
    let mut claims = owned_ids(ctx.previous_outputs());
    for leftover in replaced_chain(ctx.previous_outputs()) {
        claims.extend(owned_ids(Some(&leftover)));
    }
    claims
}

/// The ids of the parts a record says this deployment made: its `owned` roles, under the ids
/// the record holds.
fn owned_ids(recorded: Option<&Outputs>) -> Vec<String> {
    let Some(recorded) = recorded else {
        return Vec::new();
    };
    let roles = owned_in(recorded.get("owned"));
    recorded_parts(recorded)
        .into_iter()
        .filter(|p| roles.iter().any(|r| r == p.role))
        .map(|p| p.id)
        .collect()
}

/// The targets a record's replacements left behind, newest first (its `replaced` chain).
fn replaced_chain(recorded: Option<&Outputs>) -> Vec<Outputs> {
    let mut chain = Vec::new();
    let mut next = recorded.and_then(|r| r.get(REPLACED_OUTPUT));
    while let Some(old) = next.and_then(Value::as_object) {
        chain.push(old.clone());
        next = old.get(REPLACED_OUTPUT);
    }
    chain
}

/// The part names in a recorded list (`owned` of the outputs, or the resume token's).
fn owned_in(list: Option<&Value>) -> Vec<String> {
    fields::strings_of(list)
}

fn outputs(parts: &[Part], owned: &[String]) -> Applied {
    // Created always: `down` asks the kind, which deletes only the parts in `owned`.
    Applied::created(output_fields(parts, owned))
}

fn output_fields(parts: &[Part], owned: &[String]) -> twinup_engine::Outputs {
    let id = |role: &str| {
        parts
            .iter()
            .find(|p| p.role == role)
            .map_or(String::new(), |p| p.id.clone())
    };
    fields::outputs(json!({
        "id": id("private_endpoint"),
        "private_dns_zone_id": id("dns_zone"),
        "owned": owned,
    }))
}

fn subscription_of(id: &str) -> String {
    id.split('/').take(3).collect::<Vec<_>>().join("/")
}

fn resource_group_of(id: &str) -> Result<String, StepError> {
    let segs: Vec<&str> = id.split('/').collect();
    match segs.get(3) {
        Some(g) if g.eq_ignore_ascii_case("resourceGroups") && segs.len() > 4 => {
            Ok(segs[..5].join("/"))
        }
        _ => Err(StepError::rejected(format!(
            "'{id}' is not a resource id inside a resource group"
        ))),
    }
}

fn enabled(with: &Value) -> bool {
    PrivateLinkSchema.turned_off(with).is_none()
}

/// The schema of `PrivateLinkKind` steps: name, fields, outputs, comparison; needs no connection.
pub struct PrivateLinkSchema;

impl KindSchema for PrivateLinkSchema {
    fn name(&self) -> &'static str {
        "azure.digital_twins_private_link"
    }

    fn turned_off(&self, with: &Value) -> Option<String> {
        // Known and empty (or left out): no endpoint. An unknown subnet id is not known empty.
        let empty = match with.get("subnet_id") {
            None | Some(Value::Null) => true,
            Some(Value::String(id)) => id.trim().is_empty(),
            Some(_) => false,
        };
        empty.then(|| "no subnet given (subnet_id is empty)".to_string())
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["id", "private_dns_zone_id"]
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut c = Checker::new(
            self.name(),
            with,
            &[
                "subnet_id",
                "instance_id",
                "location",
                "dns_zone_resource_group",
            ],
        );
        let subnet = c.optional_str("subnet_id", "the subnet's ARM id, or empty for none");
        if let Some(subnet) = subnet
            && !subnet.is_empty()
        {
            let lower = subnet.to_ascii_lowercase();
            if !(lower.trim_start_matches('/').starts_with("subscriptions/")
                && lower.contains("/providers/microsoft.network/virtualnetworks/")
                && lower.contains("/subnets/"))
            {
                c.errors.push(FieldError::new(
                    "subnet_id",
                    format!("'{subnet}' is not a subnet id"),
                    "give /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}, or leave it empty for no private endpoint",
                ));
            }
        }
        c.required_str(
            "instance_id",
            "the instance's ARM id, ${steps.instance.outputs.id}",
        );
        c.required_str(
            "location",
            "the region of the private endpoint (the subnet's)",
        );
        c.optional_str(
            "dns_zone_resource_group",
            "the resource group of the private DNS zone",
        );
        c.errors
    }

    fn normalize(&self, field: &str, value: &Value) -> Value {
        super::compare::normalize(field, value)
    }
}

#[async_trait]
impl StepKind for PrivateLinkKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &PrivateLinkSchema
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        if let Some(why) = PrivateLinkSchema.turned_off(with) {
            if ctx.was_creating() {
                // Turning it off now would forget the parts that attempt made.
                return Err(super::unfinished_create("the private link"));
            }
            ctx.progress(format!("no private endpoint asked for ({why})"));
            return Ok(Applied::turned_off(output_fields(&[], &[]), why));
        }
        self.converge(ctx, with, &claims(ctx)).await
    }

    async fn resume(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: &Value,
    ) -> Result<Applied, StepError> {
        // The token was saved for this same `with`: its parts are the ones it names.
        let roles = owned_in(token.get("private_link_owned"));
        let mut claimed: Vec<String> = self
            .parts(with)?
            .into_iter()
            .filter(|p| roles.iter().any(|r| r == p.role))
            .map(|p| p.id)
            .collect();
        claimed.extend(claims(ctx));
        if let Some(op) = token
            .get("operation")
            .and_then(|o| LroToken::from_value(o).ok())
        {
            ctx.progress("resuming the private endpoint's operation");
            wait_for(&self.ctx, ctx, &op, "private link").await?;
        }
        self.converge(ctx, with, &claimed).await
    }

    fn replacement(&self, ctx: &StepContext, with: &Value) -> Option<Replacement> {
        // Parts it made that the plan no longer names (turned off; the instance or the zone's
        // group changed) go once the run is done, as `down` would delete them, instead of
        // being forgotten; the parts the plan still names stay.
        let recorded = ctx.previous_outputs()?;
        if twinup_engine::created_by_step(recorded) != Some(true) {
            return None;
        }
        let current: Vec<String> = match enabled(with) {
            true => self.parts(with).ok()?.into_iter().map(|p| p.id).collect(),
            false => Vec::new(),
        };
        let stale: Vec<String> = owned_ids(Some(recorded))
            .into_iter()
            .filter(|id| !current.iter().any(|c| c.eq_ignore_ascii_case(id)))
            .collect();
        if stale.is_empty() {
            return None;
        }
        let names: Vec<&str> = stale.iter().map(|id| name_of(id)).collect();
        Some(Replacement {
            from: format!("private link parts {} made by twinup", names.join(", ")),
            to: match current.first() {
                Some(endpoint) => format!("private endpoint {}", name_of(endpoint)),
                None => "no private endpoint (turned off)".to_string(),
            },
            deletes_old: true,
            deletes_first: false,
        })
    }

    async fn read(&self, _ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        if !enabled(with) {
            return Ok(LiveState::Present {
                properties: json!({}),
            });
        }
        let endpoint = &self.parts(with)?[0];
        Ok(
            match self
                .ctx
                .arm()
                .get_optional(&endpoint.id, endpoint.api)
                .await?
            {
                None => LiveState::Absent,
                Some(_) => LiveState::Present {
                    properties: json!({}),
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
        // By the ids the record holds (what it made), not what the `with` names now.
        let mut made = owned_ids(ctx.previous_outputs());
        if made.is_empty() {
            return Ok(());
        }
        if ctx.retiring() && enabled(with) {
            // An old record's part the current private link still uses (a shared zone) stays.
            let current: Vec<String> = self.parts(with)?.into_iter().map(|p| p.id).collect();
            made.retain(|id| !current.iter().any(|c| c.eq_ignore_ascii_case(id)));
        }
        // An interrupted `down` saved the delete in flight: finish waiting for it, then delete
        // every part still there (a part already gone counts as deleted).
        if let Some(op) = token.and_then(|t| LroToken::from_value(t).ok()) {
            wait_for(&self.ctx, ctx, &op, "the private link's delete").await?;
        }
        let mut parts = ctx
            .previous_outputs()
            .map(recorded_parts)
            .unwrap_or_default();
        parts.reverse();
        for part in &parts {
            if made.iter().any(|id| id.eq_ignore_ascii_case(&part.id)) {
                delete_arm(&self.ctx, ctx, &part.id, part.api, None, &part.id).await?;
            } else {
                ctx.progress(format!("keeping {}: twinup did not make it here", part.id));
            }
        }
        Ok(())
    }
}
