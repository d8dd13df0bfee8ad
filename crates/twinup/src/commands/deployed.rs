//! The preparation shared by the commands that act on what a checkpoint records as deployed
//! (`verify`, `down`): one type, [`Deployed`], built in one order for both — the plan
//! (validated), the checkpoint (it must exist; locked when the command writes), the cloud
//! (the recorded one unless `--cloud` says otherwise, checked before anything else is
//! read), the inputs the deployment was made with, and the plan expanded with them. Signing
//! in ([`Deployed::connect`]) comes last, when the command has decided to act.

use twinup_engine::checkpoint::Checkpoint;
use twinup_engine::{ExpandedPlan, KindRegistry, ResolvedInputs, Session, load_for_plan};

use crate::azure_session::AzureSession;
use crate::checkpoint_store::checkpoint_store_for;
use crate::cli::{CloudArgs, ConnectArgs, OutputFormat};
use crate::cloud_memory;
use crate::commands::connect::{connected_registry, deployed_inputs, load_valid_plan};
use crate::failure::Failure;

/// Whether a command changes the checkpoint (and so holds its lock) or only reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only: the checkpoint is loaded without its lock.
    Reads,
    /// Writes: the checkpoint is locked for the whole command.
    Writes,
}

/// A deployment, ready for a command to act on it.
pub struct Deployed {
    /// The plan, validated and `for_each` expanded with the deployed inputs.
    pub plan: ExpandedPlan,
    /// The checkpoint as loaded.
    pub checkpoint: Checkpoint,
    /// The locked checkpoint, for a command that writes.
    pub session: Option<Session>,
    /// The cloud the deployment lives in.
    pub cloud: CloudArgs,
    /// The inputs the deployment was made with.
    pub inputs: ResolvedInputs,
    checkpoint_path: std::path::PathBuf,
}

impl Deployed {
    /// Prepares the deployment `args` name. `without_checkpoint` ends the error said when
    /// there is no checkpoint (what the user should do, or why nothing happens).
    pub async fn prepare(
        args: &ConnectArgs,
        access: Access,
        without_checkpoint: &str,
    ) -> Result<Deployed, Failure> {
        let plan = load_valid_plan(&args.plan)?;
        let store = checkpoint_store_for(&args.plan.checkpoint)?;
        let location = store.location();
        let (checkpoint, session) = match access {
            Access::Writes => {
                let session = Session::open(store, &plan).await?;
                let checkpoint = session.existed().then(|| session.checkpoint().clone());
                (checkpoint, Some(session))
            }
            Access::Reads => (load_for_plan(store.as_ref(), &plan).await?, None),
        };
        let Some(checkpoint) = checkpoint else {
            return Err(Failure::bad_input(format!(
                "no checkpoint at {location}: nothing was deployed from it{without_checkpoint}"
            )));
        };
        // Before anything else is read: the cloud the deployment lives in.
        let cloud =
            cloud_memory::effective(&args.cloud, Some(&checkpoint), args.inputs.reconfigure)?;
        crate::azure_session::check_cloud_args(&cloud)?;
        let inputs = deployed_inputs(&plan, &checkpoint)?;
        // `for_each` steps become one step per item, as `up` ran them.
        let plan = twinup_engine::expand_plan(&plan, &inputs)?;
        Ok(Deployed {
            plan,
            checkpoint,
            session,
            cloud,
            inputs,
            checkpoint_path: args.plan.checkpoint.clone(),
        })
    }

    /// The step kinds connected to the deployment's cloud (signing in when the plan has
    /// `azure.*` steps); keep the connection alive while the kinds are used.
    pub async fn connect(
        &self,
        format: OutputFormat,
    ) -> Result<(KindRegistry, Option<AzureSession>), Failure> {
        connected_registry(
            &self.plan,
            &self.cloud,
            &self.checkpoint_path,
            &self.inputs,
            format,
        )
        .await
    }
}
