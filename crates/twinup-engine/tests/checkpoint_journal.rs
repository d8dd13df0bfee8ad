//! The checkpoint journal at the engine's boundary: a transition costs the size of the change
//! (an append), not the size of the checkpoint (a whole save); loading applies the journal;
//! a journal left by an interrupted whole save, or torn by a crash mid-append, never misleads
//! a rerun; a journal that outgrew its snapshot is compacted.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use support::{Harness, plan_text, registry};
use twinup_engine::checkpoint::{
    Appended, Checkpoint, CheckpointLock, CheckpointStore, FileStore, JournalEntry, RunStatus,
    StepRecord, StepState, journal_path,
};
use twinup_engine::{
    CheckpointError, InputSources, RunConfig, Session, Steps, expand_plan, resolve_inputs, run,
};
use twinup_plan::Plan;

/// A file store that counts whole saves and appended records.
struct Counting {
    inner: FileStore,
    saves: AtomicUsize,
    saved_bytes: AtomicUsize,
    appended: AtomicUsize,
}

#[async_trait]
impl CheckpointStore for Counting {
    fn location(&self) -> String {
        self.inner.location()
    }
    async fn lock(&self) -> Result<Box<dyn CheckpointLock>, CheckpointError> {
        self.inner.lock().await
    }
    async fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        self.inner.load().await
    }
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        self.saves.fetch_add(1, Ordering::Relaxed);
        let size = serde_json::to_vec_pretty(checkpoint).map_or(0, |b| b.len());
        self.saved_bytes.fetch_add(size, Ordering::Relaxed);
        self.inner.save(checkpoint).await
    }
    async fn append_steps(&self, entries: &[JournalEntry]) -> Result<Appended, CheckpointError> {
        self.appended.fetch_add(entries.len(), Ordering::Relaxed);
        self.inner.append_steps(entries).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_run_appends_its_transitions_and_saves_the_whole_checkpoint_rarely() {
    let steps = 2_000;
    let h = Harness::new(&vec![vec![]; steps]);
    let path = h.dir.path().join("cp.json");
    let store = Arc::new(Counting {
        inner: FileStore::new(&path),
        saves: AtomicUsize::new(0),
        saved_bytes: AtomicUsize::new(0),
        appended: AtomicUsize::new(0),
    });
    let plan = Plan::parse("test.yaml", &plan_text(&vec![vec![]; steps])).expect("plan");
    let mut session = Session::open(store.clone(), &plan).await.expect("open");
    let inputs = resolve_inputs(&plan, &InputSources::default(), None).expect("inputs");
    let expanded = expand_plan(&plan, &inputs).expect("expand");
    let config = RunConfig {
        parallelism: 16,
        ..RunConfig::default()
    };
    let report = run(
        &mut session,
        Steps::new(&expanded, &registry(&h.script), &inputs),
        &config,
    )
    .await
    .expect("run");
    assert_eq!(report.status, RunStatus::Succeeded);

    let appended = store.appended.load(Ordering::Relaxed);
    let saves = store.saves.load(Ordering::Relaxed);
    // Every start is appended before its step's work; successes ride along with later
    // appends (the last ones reach the disk in the run's final whole save).
    assert!(
        appended >= steps,
        "the starts were not appended: {appended} records for {steps} steps"
    );
    // A save per transition would be thousands; the journal needs the first and last saves
    // and a few compactions.
    assert!(saves <= 12, "{saves} whole saves for {steps} steps");
    let final_size = std::fs::metadata(&path).expect("checkpoint").len() as usize;
    let saved_bytes = store.saved_bytes.load(Ordering::Relaxed);
    assert!(
        saved_bytes <= 6 * final_size,
        "whole saves wrote {saved_bytes} bytes for a {final_size}-byte checkpoint"
    );
    assert!(
        !journal_path(&path.canonicalize().expect("canonical")).exists(),
        "the last save compacts the journal away"
    );
    let saved = h.saved().await;
    assert!(
        saved
            .steps
            .values()
            .all(|r| r.state == StepState::Succeeded)
    );
}

/// A store holding a checkpoint of steps `a` and `b`, both pending, saved whole.
async fn saved_store(dir: &std::path::Path) -> (FileStore, Checkpoint) {
    let h = Harness::new(&[vec![], vec![]]);
    let _ = h.run().await;
    let mut checkpoint = h.saved().await;
    checkpoint.steps.clear();
    checkpoint
        .steps
        .insert("a".to_string(), StepRecord::pending("test"));
    checkpoint
        .steps
        .insert("b".to_string(), StepRecord::pending("test"));
    let store = FileStore::new(dir.join("cp.json"));
    store.save(&checkpoint).await.expect("save");
    (store, checkpoint)
}

fn entry(step: &str, state: StepState) -> JournalEntry {
    let mut record = StepRecord::pending("test");
    record.state = state;
    record.input_hash = Some("h".to_string());
    JournalEntry {
        at: chrono::Utc::now(),
        step: step.to_string(),
        record,
    }
}

#[tokio::test]
async fn an_append_leaves_the_snapshot_alone_and_loading_applies_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = saved_store(dir.path()).await;
    let snapshot = std::fs::read(dir.path().join("cp.json")).expect("snapshot");
    let appended = store
        .append_steps(&[entry("a", StepState::Running)])
        .await
        .expect("append");
    assert_eq!(appended, Appended::Saved);
    assert_eq!(
        std::fs::read(dir.path().join("cp.json")).expect("snapshot"),
        snapshot,
        "a transition must not rewrite the snapshot"
    );
    let loaded = FileStore::new(dir.path().join("cp.json"))
        .load()
        .await
        .expect("load")
        .expect("checkpoint");
    assert_eq!(loaded.steps["a"].state, StepState::Running);
    assert_eq!(loaded.steps["b"].state, StepState::Pending);
}

#[tokio::test]
async fn a_journal_left_by_an_interrupted_whole_save_is_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, mut checkpoint) = saved_store(dir.path()).await;
    store
        .append_steps(&[entry("a", StepState::Failed)])
        .await
        .expect("append");
    let journal = journal_path(&dir.path().canonicalize().expect("dir").join("cp.json"));
    let old_journal = std::fs::read(&journal).expect("journal");
    // The new snapshot says `a` succeeded; a crash before the old journal was removed leaves
    // it beside the new snapshot.
    checkpoint.steps["a"].state = StepState::Succeeded;
    checkpoint.steps["a"].outputs = Some(serde_json::Map::new());
    store.save(&checkpoint).await.expect("save");
    assert!(!journal.exists(), "a whole save removes the journal");
    std::fs::write(&journal, old_journal).expect("put the old journal back");
    let loaded = FileStore::new(dir.path().join("cp.json"))
        .load()
        .await
        .expect("load")
        .expect("checkpoint");
    assert_eq!(
        loaded.steps["a"].state,
        StepState::Succeeded,
        "the old journal was applied over the newer snapshot"
    );
}

#[tokio::test]
async fn a_torn_last_line_is_ignored_and_cut_off_before_the_next_append() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = saved_store(dir.path()).await;
    store
        .append_steps(&[entry("a", StepState::Running)])
        .await
        .expect("append");
    let journal = journal_path(&dir.path().canonicalize().expect("dir").join("cp.json"));
    let mut bytes = std::fs::read(&journal).expect("journal");
    bytes.extend_from_slice(br#"{"at":"2026-12-01T00:00:00Z","step":"b","rec"#);
    std::fs::write(&journal, bytes).expect("tear");

    let rerun = FileStore::new(dir.path().join("cp.json"));
    let loaded = rerun.load().await.expect("load").expect("checkpoint");
    assert_eq!(loaded.steps["a"].state, StepState::Running);
    assert_eq!(loaded.steps["b"].state, StepState::Pending);
    rerun
        .append_steps(&[entry("b", StepState::Running)])
        .await
        .expect("append after the torn line");
    let again = FileStore::new(dir.path().join("cp.json"))
        .load()
        .await
        .expect("the journal is whole again")
        .expect("checkpoint");
    assert_eq!(again.steps["a"].state, StepState::Running);
    assert_eq!(again.steps["b"].state, StepState::Running);
}

#[tokio::test]
async fn a_journal_that_outgrows_its_snapshot_asks_for_compaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = saved_store(dir.path()).await;
    let mut appends = 0;
    loop {
        appends += 1;
        let appended = store
            .append_steps(&[entry("a", StepState::Running)])
            .await
            .expect("append");
        if appended == Appended::Compact {
            break;
        }
        assert!(appends < 100_000, "the journal never asked to be compacted");
    }
    let journal = journal_path(&dir.path().canonicalize().expect("dir").join("cp.json"));
    let size = std::fs::metadata(&journal).expect("journal").len();
    assert!(
        size >= 256 * 1024,
        "compaction asked for at {size} bytes: too early"
    );
}
