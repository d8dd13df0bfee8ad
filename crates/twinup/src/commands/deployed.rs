//! The preparation of the commands that act on what a checkpoint records as deployed
//! (`verify`, `down`): [`Deployed`], an [`Opened`] plan, checkpoint and cloud (the checkpoint
//! must exist; locked for `down`, read for `verify`) with the inputs the deployment was made
//! with and the plan expanded with them. Signing in ([`Deployed::connect`]) comes last, when
//! the command has decided to act.

use std::path::PathBuf;

use twinup_engine::checkpoint::Checkpoint;
use twinup_engine::{ExpandedPlan, KindRegistry, KindSchemas, ResolvedInputs, Session};

use crate::azure_session::AzureSession;
use crate::cli::{CloudArgs, ConnectArgs, OutputFormat};
use crate::commands::connect::{deployed_inputs, kinds_for, sign_in, subscription_input};
use crate::commands::prepare::{Held, Opened, Read};
use crate::failure::Failure;

/// A deployment, ready for a command to act on it; `H` is how the checkpoint is held
/// ([`Session`], locked, for a command that writes; [`Read`] otherwise).
pub struct Deployed<H> {
    /// The plan, validated and `for_each` expanded with the deployed inputs.
    pub plan: ExpandedPlan,
    /// The checkpoint as the command holds it.
    pub held: H,
    /// The inputs the deployment was made with.
    pub inputs: ResolvedInputs,
    /// The kinds' schemas the plan was validated with.
    pub schemas: KindSchemas,
    /// The cloud the deployment lives in.
    cloud: CloudArgs,
    /// Where the checkpoint is (`--cloud local` keeps its emulator state beside it).
    checkpoint_path: PathBuf,
}

impl Deployed<Session> {
    /// The deployment `args` name, its checkpoint locked. `without_checkpoint` ends the
    /// error said when there is no checkpoint (what the user should do, or why nothing
    /// happens).
    pub async fn locking(args: &ConnectArgs, without_checkpoint: &str) -> Result<Self, Failure> {
        let opened = Opened::locking(&args.plan, &args.cloud, args.inputs.reconfigure).await?;
        Deployed::finish(opened, without_checkpoint)
    }
}

impl Deployed<Read> {
    /// The deployment `args` name, its checkpoint read (see [`Deployed::locking`]).
    pub async fn reading(args: &ConnectArgs, without_checkpoint: &str) -> Result<Self, Failure> {
        let opened = Opened::reading(&args.plan, &args.cloud, args.inputs.reconfigure).await?;
        Deployed::finish(opened, without_checkpoint)
    }
}

impl<H: Held> Deployed<H> {
    fn finish(opened: Opened<H>, without_checkpoint: &str) -> Result<Self, Failure> {
        if !opened.held.existed() {
            return Err(Failure::bad_input(format!(
                "no checkpoint at {}: nothing was deployed from it{without_checkpoint}",
                opened.location
            )));
        }
        let inputs = deployed_inputs(&opened.plan, opened.checkpoint())?;
        // `for_each` steps become one step per item, as `up` ran them.
        let plan = twinup_engine::expand_plan(&opened.plan, &inputs)?;
        Ok(Deployed {
            plan,
            held: opened.held,
            inputs,
            schemas: opened.schemas,
            cloud: opened.cloud,
            checkpoint_path: opened.checkpoint_path,
        })
    }

    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        self.held.checkpoint()
    }

    /// The step kinds connected to the deployment's cloud (signing in when the plan has
    /// `azure.*` steps); keep the connection alive while the kinds are used.
    pub async fn connect(
        &self,
        format: OutputFormat,
    ) -> Result<(KindRegistry, Option<AzureSession>), Failure> {
        let connection = sign_in(&self.plan, &self.cloud, &self.checkpoint_path, format).await?;
        let subscription = self
            .cloud
            .subscription
            .clone()
            .or_else(|| subscription_input(&self.inputs));
        let registry = kinds_for(connection.as_ref(), subscription, false).await?;
        Ok((registry, connection))
    }
}
