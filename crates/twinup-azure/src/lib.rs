//! Azure support for twinup: clients for Entra ID tokens, Azure Resource Manager (with the
//! long-running-operation protocol) and Microsoft Graph, and the `azure.*` step kinds that the
//! engine runs.
//!
//! Layout: [`cloud`] resolves endpoints; [`http`] is the one shared HTTP client with retries and
//! rate limiting; [`credential`] gets and caches tokens; [`arm`], [`lro`] and [`graph`] are the
//! REST clients; [`errors`] holds every error type; [`kinds`] has the step kinds and
//! [`register_kinds`]; [`subscription`] picks a default subscription; [`checkpoint_blob`] keeps
//! checkpoints in Azure Blob Storage (lease as the lock) for teams and CI.
//!
//! Typical wiring (in the CLI): build one [`HttpClient`], resolve a [`Cloud`] to [`Endpoints`],
//! get a token provider with [`credential::provider_for`], then call [`register_kinds`] with an
//! [`AzureContext`].

pub mod arm;
pub mod checkpoint_blob;
pub mod cloud;
pub mod credential;
pub mod discovery;
pub mod errors;
pub mod graph;
pub mod http;
pub mod lro;
pub mod permissions;
pub mod providers;
pub mod regions;
pub mod secret;

pub use cloud::{Cloud, Endpoints};
pub use errors::{ArmError, AzureError, GraphError, Result};
pub use http::{HttpClient, HttpConfig};
pub use secret::Secret;
pub mod kinds;
pub mod subscription;

pub use kinds::{AzureContext, KindSettings, register_kinds};
pub use subscription::{Subscription, SubscriptionChoice, default_subscription};
