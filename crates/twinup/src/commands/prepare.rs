//! The one way every command that takes a checkpoint prepares itself, in one order:
//! [`Opened`] is the plan (validated), the checkpoint as the command holds it (a locked
//! [`Session`] for `up` and `down`, a [`Read`] for `preview` and `verify`) and the cloud (the
//! flags, else the one the checkpoint recorded, checked before anything else is read).
//! [`Opened::resolve`] then resolves the inputs of a run that may ask for them (`up`,
//! `preview`): flags, environment, answers file and saved values first, without network; the
//! steps checked with what is known; signing in; the discovered defaults; the prompts.
//! `verify` and `down` take the inputs the deployment was made with instead
//! (`commands/deployed.rs`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use twinup_engine::checkpoint::{Checkpoint, CheckpointStore};
use twinup_engine::{
    InputError, KindSchemas, ResolvedInputs, Session, expand_plan, load_for_plan, resolve_inputs,
    validate_steps,
};
use twinup_plan::Plan;

use crate::answers::read_answers;
use crate::azure_session::{AzureSession, check_cloud_args, uses_azure};
use crate::checkpoint_store::checkpoint_store_for;
use crate::cli::{CloudArgs, InputArgs, OutputFormat, PlanArgs};
use crate::cloud_memory;
use crate::commands::connect::{
    DISCOVERED, ValidPlan, input_sources, load_valid_plan, resolve_with_prompts, sign_in,
};
use crate::failure::Failure;

/// A checkpoint as a command holds it.
pub trait Held {
    /// The checkpoint (a new, empty one when none was saved yet).
    fn checkpoint(&self) -> &Checkpoint;
    /// Whether it was saved before this command.
    fn existed(&self) -> bool;
}

impl Held for Session {
    fn checkpoint(&self) -> &Checkpoint {
        Session::checkpoint(self)
    }

    fn existed(&self) -> bool {
        Session::existed(self)
    }
}

/// A checkpoint read without its lock, by a command that writes nothing.
pub struct Read {
    checkpoint: Checkpoint,
    existed: bool,
}

impl Held for Read {
    fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    fn existed(&self) -> bool {
        self.existed
    }
}

/// A command's plan, checkpoint and cloud, in the order every command reads them.
pub struct Opened<H> {
    /// The plan, validated against every kind's schema.
    pub plan: Plan,
    /// The schemas it was validated with.
    pub schemas: KindSchemas,
    /// The checkpoint as the command holds it.
    pub held: H,
    /// The cloud: the flags, else the one the checkpoint recorded; checked.
    pub cloud: CloudArgs,
    /// Where the checkpoint is (`--cloud local` keeps its emulator state beside it).
    pub checkpoint_path: PathBuf,
    /// The checkpoint's location as messages say it (a blob URL without its signature).
    pub location: String,
}

/// What [`Opened::resolve`] found: the inputs and the connection they were resolved with.
pub struct Resolved {
    /// Every input's value.
    pub inputs: ResolvedInputs,
    /// The signed-in connection, when the plan uses Azure (it keeps `--cloud local`'s
    /// emulator alive).
    pub connection: Option<AzureSession>,
    /// Whether resolving needed the discovered defaults or a prompt (the first pass, without
    /// network or prompts, left inputs missing).
    pub prompted: bool,
    /// Whether prompts could be shown (a terminal, and no `--non-interactive`).
    pub interactive: bool,
}

impl Opened<Session> {
    /// Opens the checkpoint locked, for a command that writes it (`up`, `down`).
    pub async fn locking(
        plan_args: &PlanArgs,
        cloud: &CloudArgs,
        reconfigure: bool,
    ) -> Result<Self, Failure> {
        let ((plan, schemas), store) = plan_and_store(plan_args, cloud)?;
        let location = store.location();
        let session = Session::open(store, &plan).await?;
        Opened::finish(
            (plan, schemas),
            (session, location),
            plan_args,
            cloud,
            reconfigure,
        )
    }
}

impl Opened<Read> {
    /// Reads the checkpoint, for a command that writes nothing (`preview`, `verify`).
    pub async fn reading(
        plan_args: &PlanArgs,
        cloud: &CloudArgs,
        reconfigure: bool,
    ) -> Result<Self, Failure> {
        let ((plan, schemas), store) = plan_and_store(plan_args, cloud)?;
        let saved = load_for_plan(store.as_ref(), &plan).await?;
        let read = Read {
            existed: saved.is_some(),
            checkpoint: saved.unwrap_or_else(|| Checkpoint::new(&plan.name, &plan.hash())),
        };
        Opened::finish(
            (plan, schemas),
            (read, store.location()),
            plan_args,
            cloud,
            reconfigure,
        )
    }
}

/// What every command reads first, in this order: the plan (validated), the cloud flags
/// (checked), then where the checkpoint is.
fn plan_and_store(
    plan_args: &PlanArgs,
    cloud: &CloudArgs,
) -> Result<(ValidPlan, Arc<dyn CheckpointStore>), Failure> {
    let plan = load_valid_plan(plan_args)?;
    check_cloud_args(cloud)?;
    Ok((plan, checkpoint_store_for(&plan_args.checkpoint)?))
}

impl<H: Held> Opened<H> {
    /// The cloud, once the checkpoint is known: what it recorded unless the flags say
    /// otherwise.
    fn finish(
        (plan, schemas): ValidPlan,
        (held, location): (H, String),
        plan_args: &PlanArgs,
        cloud: &CloudArgs,
        reconfigure: bool,
    ) -> Result<Self, Failure> {
        let cloud = cloud_memory::effective(cloud, Some(held.checkpoint()), reconfigure)?;
        check_cloud_args(&cloud)?;
        Ok(Opened {
            plan,
            schemas,
            held,
            cloud,
            checkpoint_path: plan_args.checkpoint.clone(),
            location,
        })
    }

    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        self.held.checkpoint()
    }

    /// Resolves the run's inputs from `args` and the checkpoint: a first pass with no
    /// network or prompts (a bad value stops here; so does a missing one that neither
    /// signing in nor a prompt can supply); the steps checked with the values known so far;
    /// then signing in, the discovered defaults (`subscription`, `role_assignee`) and the
    /// prompts. The plan may gain the discovered choices.
    pub async fn resolve(
        &mut self,
        args: &InputArgs,
        format: OutputFormat,
    ) -> Result<Resolved, Failure> {
        let schemas = &self.schemas;
        let azure = uses_azure(&self.plan);
        let answers = match &args.answers {
            Some(path) => read_answers(path, &self.plan)?,
            None => Default::default(),
        };
        let mut sources = input_sources(
            &self.plan,
            schemas,
            args,
            &self.cloud,
            answers,
            self.held.checkpoint(),
        );
        let interactive = !args.non_interactive && std::io::stdin().is_terminal();

        // First pass without network or prompts: any bad value stops here, before any request.
        let first = resolve_inputs(&self.plan, &sources, None);
        // The discoverable inputs nobody supplied (a `--set subscription=` is kept as given).
        let mut to_discover: Vec<&str> = Vec::new();
        let needs_discovery = match &first {
            Ok(_) => false,
            Err(InputError::Missing(missing)) => {
                to_discover = DISCOVERED
                    .iter()
                    .copied()
                    .filter(|d| missing.iter().any(|m| m.name == *d))
                    .collect();
                let undiscoverable: Vec<_> = missing
                    .iter()
                    .filter(|m| !(azure && DISCOVERED.contains(&m.name.as_str())))
                    .cloned()
                    .collect();
                if !interactive && !undiscoverable.is_empty() {
                    return Err(InputError::Missing(undiscoverable).into());
                }
                azure
            }
            Err(_) => {
                return Err(first
                    .err()
                    .map(Failure::from)
                    .unwrap_or_else(|| Failure::bad_input("inputs")));
            }
        };
        if let Ok(inputs) = &first {
            validate_steps(&expand_plan(&self.plan, inputs)?, schemas, inputs)?;
        } else if needs_discovery && !interactive {
            // Every other input is known: check the steps now, before signing in, with the
            // inputs still to be discovered left unknown (the engine's unknown marker, which
            // kinds check once known). They stand in only to let the rest resolve.
            let mut pending = sources.clone();
            for name in &to_discover {
                pending
                    .discovered
                    .insert(name.to_string(), serde_json::Value::Null);
            }
            let mut known = resolve_inputs(&self.plan, &pending, None)?;
            for name in &to_discover {
                known.values.shift_remove(*name);
            }
            validate_steps(&expand_plan(&self.plan, &known)?, schemas, &known)?;
        }

        let connection = sign_in(&self.plan, &self.cloud, &self.checkpoint_path, format).await?;
        if let (true, Some(connection)) = (needs_discovery, &connection) {
            connection.discover(&mut self.plan, &mut sources).await?;
        }
        let prompted = needs_discovery || first.is_err();
        let inputs = if prompted {
            resolve_with_prompts(&self.plan, &sources, interactive)?
        } else {
            first?
        };
        Ok(Resolved {
            inputs,
            connection,
            prompted,
            interactive,
        })
    }
}
