//! The live progress view on a terminal (indicatif): a spinner per running step with its
//! elapsed time and the latest status of its operation; finished steps scroll above as lines.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use console::style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use twinup_engine::{Event, EventSink};
use twinup_plan::escape_controls;

use super::progress::{action_text, line_for, retry_text};

/// Spinners for running steps on stderr.
pub struct LiveProgress {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl LiveProgress {
    /// A view drawing on stderr.
    pub fn new() -> Self {
        LiveProgress {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn finish(&self, step: &str, line: Option<String>) {
        let bar = self.bars.lock().ok().and_then(|mut b| b.remove(step));
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        if let Some(line) = line {
            let _ = self.multi.println(line);
        }
    }
}

impl EventSink for LiveProgress {
    fn emit(&self, event: Event) {
        match &event {
            Event::StepStarted { step, kind, action } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                let template = "  {spinner:.cyan} {prefix:.bold} [{elapsed}] {msg}";
                if let Ok(s) = ProgressStyle::with_template(template) {
                    bar.set_style(s);
                }
                bar.set_prefix(step.clone());
                bar.set_message(format!("{} ({kind})", action_text(*action)));
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Ok(mut bars) = self.bars.lock() {
                    bars.insert(step.clone(), bar);
                }
            }
            Event::StepProgress { step, message } => {
                let bar = self.bars.lock().ok().and_then(|b| b.get(step).cloned());
                match bar {
                    Some(bar) => bar.set_message(escape_controls(message).into_owned()),
                    None => {
                        let _ = self.multi.println(format!(
                            "    {}: {}",
                            style(step).dim(),
                            escape_controls(message)
                        ));
                    }
                }
            }
            Event::StepRetry { step, .. } => {
                // The spinner says it, and a line stays above for the record.
                let text = retry_text(&event).unwrap_or_default();
                if let Some(bar) = self.bars.lock().ok().and_then(|b| b.get(step).cloned()) {
                    bar.set_message(text.clone());
                }
                let _ = self
                    .multi
                    .println(format!("    {}: {text}", style(step).dim()));
            }
            Event::StepSucceeded { step, .. }
            | Event::StepFailed { step, .. }
            | Event::StepNotStarted { step } => {
                let step = step.clone();
                self.finish(&step, line_for(&event));
            }
            _ => {
                if let Some(line) = line_for(&event) {
                    let _ = self.multi.println(line);
                }
            }
        }
    }
}
