//! The cloud a checkpoint's deployment lives in, remembered in the checkpoint's `environment`
//! (name and custom endpoints, never credentials), so that `status`, `verify`, `down` and a
//! rerun of `up` reach the same cloud without `--cloud`, and every resume hint printed works
//! as printed. A `--cloud` given on the command line that names another cloud than the
//! recorded one is refused unless `--reconfigure` says the deployment moves.

use clap::ValueEnum;
use serde_json::{Value, json};
use twinup_engine::checkpoint::Checkpoint;

use crate::cli::{CloudArgs, CloudName};
use crate::failure::Failure;

/// The key under the checkpoint's `environment`.
const KEY: &str = "cloud";

/// The cloud recorded in `checkpoint`, as flags: `None` for a checkpoint that records none
/// (written by an older twinup, or never written).
pub fn recorded(checkpoint: &Checkpoint) -> Option<CloudArgs> {
    let record = checkpoint.environment.get(KEY)?;
    let name = CloudName::from_str(record.get("name")?.as_str()?, true).ok()?;
    let text = |field: &str| {
        record
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(CloudArgs {
        cloud: name,
        subscription: None,
        authority_host: text("authority_host"),
        arm_endpoint: text("arm_endpoint"),
        graph_endpoint: text("graph_endpoint"),
        arm_audience: text("arm_audience"),
        graph_audience: text("graph_audience"),
        explicit: false,
    })
}

/// What the checkpoint records for `args`.
pub fn record(args: &CloudArgs) -> Value {
    let mut record = json!({"name": name(args.cloud)});
    for (field, value) in [
        ("authority_host", &args.authority_host),
        ("arm_endpoint", &args.arm_endpoint),
        ("graph_endpoint", &args.graph_endpoint),
        ("arm_audience", &args.arm_audience),
        ("graph_audience", &args.graph_audience),
    ] {
        if let Some(value) = value {
            record[field] = json!(value);
        }
    }
    record
}

/// Records `args` in the session's checkpoint (written with the run's first write).
pub fn remember(session: &mut twinup_engine::Session, args: &CloudArgs) {
    session.set_environment(KEY, record(args));
}

/// The flags a command on `checkpoint` uses: the recorded cloud when `--cloud` was not given
/// (endpoint flags given now still take precedence), the flags as given when nothing is
/// recorded or `reconfigure` moves the deployment, and exit 2 when `--cloud` names another
/// cloud than the recorded one.
pub fn effective(
    args: &CloudArgs,
    checkpoint: Option<&Checkpoint>,
    reconfigure: bool,
) -> Result<CloudArgs, Failure> {
    let Some(recorded) = checkpoint.and_then(recorded) else {
        return Ok(args.clone());
    };
    if !args.explicit {
        return Ok(CloudArgs {
            subscription: args.subscription.clone(),
            authority_host: args.authority_host.clone().or(recorded.authority_host),
            arm_endpoint: args.arm_endpoint.clone().or(recorded.arm_endpoint),
            graph_endpoint: args.graph_endpoint.clone().or(recorded.graph_endpoint),
            arm_audience: args.arm_audience.clone().or(recorded.arm_audience),
            graph_audience: args.graph_audience.clone().or(recorded.graph_audience),
            ..recorded
        });
    }
    // The same cloud named again: endpoint flags given now win (a custom cloud's endpoints
    // may move, as an emulator restarted on another port does); the next write records them.
    if args.cloud == recorded.cloud {
        return Ok(CloudArgs {
            authority_host: args.authority_host.clone().or(recorded.authority_host),
            arm_endpoint: args.arm_endpoint.clone().or(recorded.arm_endpoint),
            graph_endpoint: args.graph_endpoint.clone().or(recorded.graph_endpoint),
            arm_audience: args.arm_audience.clone().or(recorded.arm_audience),
            graph_audience: args.graph_audience.clone().or(recorded.graph_audience),
            ..args.clone()
        });
    }
    if reconfigure {
        return Ok(args.clone());
    }
    Err(Failure::bad_input(format!(
        "--cloud {}: this checkpoint's deployment lives in {}; leave out --cloud to use it, or add --reconfigure to move the deployment to the cloud you named",
        describe(args),
        describe(&recorded)
    )))
}

/// The command-line name of a cloud.
pub fn name(cloud: CloudName) -> String {
    cloud
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// A cloud for messages: `local`, or `custom (ARM https://...)`.
pub fn describe(args: &CloudArgs) -> String {
    match (&args.cloud, &args.arm_endpoint) {
        (CloudName::Custom, Some(arm)) => format!("the custom cloud at {arm}"),
        (cloud, _) => format!("the {} cloud", name(*cloud)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cloud: CloudName, explicit: bool) -> CloudArgs {
        CloudArgs {
            cloud,
            subscription: None,
            authority_host: None,
            arm_endpoint: None,
            graph_endpoint: None,
            arm_audience: None,
            graph_audience: None,
            explicit,
        }
    }

    fn checkpoint_in(cloud: &CloudArgs) -> Checkpoint {
        let mut c = Checkpoint::new("p", "h");
        c.environment.insert(KEY.into(), record(cloud));
        c
    }

    #[test]
    fn the_recorded_cloud_is_used_unless_another_is_named() {
        let saved = checkpoint_in(&CloudArgs {
            arm_endpoint: Some("https://arm.example".into()),
            authority_host: Some("https://login.example".into()),
            graph_endpoint: Some("https://graph.example".into()),
            ..args(CloudName::Custom, true)
        });
        let used = effective(&args(CloudName::Public, false), Some(&saved), false).unwrap();
        assert_eq!(used.cloud, CloudName::Custom);
        assert_eq!(used.arm_endpoint.as_deref(), Some("https://arm.example"));

        let other = effective(&args(CloudName::Local, true), Some(&saved), false);
        assert!(other.is_err_and(|f| f.code == 2 && f.message.contains("--reconfigure")));
        let moved = effective(&args(CloudName::Local, true), Some(&saved), true).unwrap();
        assert_eq!(moved.cloud, CloudName::Local);

        let nothing = Checkpoint::new("p", "h");
        let given = effective(&args(CloudName::China, false), Some(&nothing), false).unwrap();
        assert_eq!(given.cloud, CloudName::China);
    }
}
