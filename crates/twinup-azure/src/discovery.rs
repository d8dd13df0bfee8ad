//! Inputs whose default is learnt by signing in, as deploy.ps1 and `az` take them: the
//! subscription (the only enabled one the credential sees; several become choices) and the
//! role assignee (the signed-in principal). One copy for every command that resolves inputs.
//!
//! Contact points: [`DISCOVERED_INPUTS`] (the input names), [`discover_inputs`].

use serde_json::Value;

use crate::arm::ArmClient;
use crate::errors::Result;
use crate::subscription::{SubscriptionChoice, default_subscription};

/// The input that names the subscription to deploy into.
pub const SUBSCRIPTION_INPUT: &str = "subscription";
/// The input that names who gets the data role.
pub const ROLE_ASSIGNEE_INPUT: &str = "role_assignee";
/// Inputs whose default is discovered by signing in.
pub const DISCOVERED_INPUTS: &[&str] = &[SUBSCRIPTION_INPUT, ROLE_ASSIGNEE_INPUT];

/// What signing in tells about the inputs of [`DISCOVERED_INPUTS`] a plan has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscoveredInputs {
    /// Defaults, by input name (they take the place of the plan's default).
    pub defaults: Vec<(String, Value)>,
    /// Inputs with several possible values to choose from at the prompt.
    pub choices: Vec<(String, Vec<Value>)>,
}

/// Discovers the defaults of `wanted` (input names the plan has): `principal_id` (the signed-in
/// principal's object id, empty when unknown) as the role assignee, and the subscriptions
/// listed through `arm`. No enabled subscription is an error that says what to do.
pub async fn discover_inputs(
    arm: &ArmClient,
    principal_id: &str,
    wanted: &[&str],
) -> Result<DiscoveredInputs> {
    let mut found = DiscoveredInputs::default();
    if wanted.contains(&ROLE_ASSIGNEE_INPUT) && !principal_id.is_empty() {
        found
            .defaults
            .push((ROLE_ASSIGNEE_INPUT.to_string(), Value::from(principal_id)));
    }
    if wanted.contains(&SUBSCRIPTION_INPUT) {
        match default_subscription(arm).await? {
            SubscriptionChoice::Only(s) => found
                .defaults
                .push((SUBSCRIPTION_INPUT.to_string(), Value::from(s.id))),
            SubscriptionChoice::Several(list) => found.choices.push((
                SUBSCRIPTION_INPUT.to_string(),
                list.into_iter().map(|s| Value::from(s.id)).collect(),
            )),
        }
    }
    Ok(found)
}
