//! # twinup-plan: the plan document
//!
//! twinup sets up Azure Digital Twins from a declarative YAML *plan*. This
//! crate reads a plan, checks it, and answers questions about it; it does no
//! I/O beyond reading a file, and knows nothing about Azure.
//!
//! ## The plan language
//!
//! A plan has a `version` (always `1`), a `name`, an optional `description`,
//! `inputs` the user supplies, a list of `steps`, and `outputs` to report:
//!
//! ```yaml
//! version: 1
//! name: adt-setup
//! description: Azure Digital Twins instance and its resource group
//! inputs:
//!   instance_name:
//!     description: Name of the instance (3-63 letters, digits, hyphens)
//!     pattern: '^[A-Za-z0-9][A-Za-z0-9-]{1,61}[A-Za-z0-9]$'
//!   location:
//!     default: westeurope
//!     choices: [westeurope, northeurope]
//! steps:
//!   - id: resource_group
//!     kind: azure.resource_group
//!     with:
//!       name: rg-${inputs.instance_name}
//!       location: ${inputs.location}
//!   - id: instance
//!     kind: azure.digital_twins_instance
//!     timeout: 30m
//!     with:
//!       name: ${inputs.instance_name}
//!       resource_group: ${steps.resource_group.outputs.name}
//! outputs:
//!   host_name: ${steps.instance.outputs.host_name}
//! ```
//!
//! * **Inputs** have a `type` (`string`, the default, `bool`, `int`, `list` or
//!   `map`), an optional `pattern` (a regular expression the whole string must
//!   match), `choices`, a `default` (without one the input is required) and
//!   `secret: true` for values that must never be shown.
//! * **Steps** have a unique `id`, a `kind` (checked against the kinds a
//!   twinup build knows with [`Plan::validate`]), parameters under `with`,
//!   optional `needs` (steps that must finish first) and a `timeout`
//!   (`90s`, `30m`, `2h` or whole seconds).
//! * **References**: `${inputs.NAME}` and `${steps.ID.outputs.NAME}` may appear
//!   in any string under `with` and `outputs`. A reference to a step makes the
//!   step wait for it, so `needs` is only required for ordering without data
//!   flow. A string that is exactly one reference takes the referenced value's
//!   type (a `map` input stays a map); otherwise the value is written into the
//!   text. `$${` writes a literal `${`.
//!
//! Input names and step ids use lowercase letters, digits and `_`, starting
//! with a letter.
//!
//! ## `for_each`: one step per item
//!
//! A step with `for_each` runs once per item of a list or map, like Terraform's
//! `for_each`; every item is a step of its own, with its own state in the
//! checkpoint, so a rerun continues with the items not done yet:
//!
//! ```yaml
//! inputs:
//!   customers: {type: map}        # {"contoso": {"location": "westus2"}, ...}
//! steps:
//!   - id: instance
//!     kind: azure.digital_twins_instance
//!     for_each: ${inputs.customers}
//!     with:
//!       name: twins-${each.key}
//!       location: ${each.value.location}
//!   - id: data_role
//!     kind: azure.role_assignment
//!     for_each: ${inputs.customers}
//!     with:
//!       scope: ${steps.instance[each.key].outputs.id}
//! outputs:
//!   host_names: ${steps.instance.outputs.host_name}   # a map: key -> host name
//! ```
//!
//! * `for_each` is `${inputs.NAME}` of a `map` or `list` input (not secret), or
//!   a list or mapping written in the plan. A map gives one item per entry; a
//!   list holds strings, each both key and value. Keys are 1 to 80 letters,
//!   digits, `_`, `-` and `.`.
//! * In the step, `${each.key}` is the item's key and `${each.value}` its value
//!   (`${each.value.FIELD}` a field of it).
//! * Item `KEY` of step `ID` is addressed `ID["KEY"]`: that is its id in
//!   progress output and in the checkpoint. `${steps.ID[each.key].outputs.NAME}`
//!   reads the output of the item with the same key, and makes the item wait for
//!   that item only (so a role is assigned as soon as its instance exists);
//!   `${steps.ID["KEY"].outputs.NAME}` reads one given item.
//! * `${steps.ID.outputs.NAME}` without an index, for a `for_each` step, is the
//!   map of every item's output (only as a whole value, not inside text) and
//!   waits for every item, as `needs: [ID]` does.
//!
//! Mistakes are reported with `file:line:column` like every other: `each` outside
//! a `for_each` step, an index on a step without `for_each`, an input that is not
//! a list or map. [`Plan::expand`] turns the plan into one whose steps are the
//! items, once the inputs are known; the engine runs the expanded plan.
//!
//! ## Using the crate
//!
//! ```
//! use twinup_plan::{Plan, SimpleCatalog};
//!
//! let text = "version: 1\nname: demo\ninputs:\n  rg: {}\nsteps:\n  - id: group\n    kind: azure.resource_group\n    with:\n      name: ${inputs.rg}\n";
//! let plan = Plan::parse("plan.yaml", text).unwrap();
//! assert_eq!(plan.graph().topological_order(), ["group"]);
//!
//! let catalog = SimpleCatalog::new().with_kind("azure.resource_gruop", None);
//! let err = plan.validate(&catalog).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "plan.yaml:7:11: error: unknown step kind `azure.resource_group`\n  help: did you mean `azure.resource_gruop`?"
//! );
//! ```
//!
//! Every problem is reported, not just the first, as a [`Diagnostic`] with a
//! `file:line:column` [`Location`] and a `help` text that says how to fix it.
//! [`Plan::locate`] finds the location of any node so later stages can point
//! at a bad field too. Answers files (`input_name: value`) are read with
//! [`parse_answers`], and text from the command line, environment or prompts
//! with [`InputSpec::parse_text`].

mod answers;
mod catalog;
mod diag;
mod errors;
mod foreach;
mod graph;
mod input;
mod limits;
mod parse;
mod path;
mod plan;
mod reference;
mod step;
mod suggest;
mod taint;
mod template;
mod text;
mod validate;
mod yaml;

pub use answers::parse_answers;
pub use catalog::{KindCatalog, SimpleCatalog};
pub use errors::{CycleError, Diagnostic, Diagnostics, Location, PlanError, RenderError};
pub use foreach::{ForEach, items as for_each_items};
pub use graph::StepGraph;
pub use input::{InputSpec, InputType};
pub use limits::{
    MAX_ALIASES, MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_EXPANDED_BYTES, ReadError, read_bounded,
};
pub use parse::{SUPPORTED_VERSIONS, is_valid_name};
pub use path::{PathSeg, display_path};
pub use plan::Plan;
pub use reference::{EachRef, Reference, StepIndex, is_valid_key, item_address, split_address};
pub use step::{Step, parse_duration};
pub use suggest::did_you_mean;
pub use template::Template;
pub use text::{ControlFound, escape_controls, first_control_in, is_forbidden_control};
