//! The blob checkpoint store against Azurite (installed from npm and started by the test):
//! round trips, the lease as a lock (holder named, renewed, released, broken), writes that
//! refuse to overwrite a changed blob, snapshots of earlier states, and clear failures.

#[path = "../../../tests/azurite/azurite.rs"]
mod azurite;

use std::time::Duration;

use azurite::{Azurite, CONNECTION_STRING};
use twinup_azure::checkpoint_blob::{
    BlobAddress, BlobStore, BlobStoreOptions, CredentialSources, choose_credential,
};
use twinup_azure::secret::Secret;
use twinup_azure::{HttpClient, HttpConfig};
use twinup_engine::CheckpointError;
use twinup_engine::checkpoint::{Checkpoint, CheckpointStore};

fn store(url: &str, lease_secs: u64) -> BlobStore {
    let address = BlobAddress::parse(url).expect("address");
    let sources = CredentialSources {
        connection_string: Some(Secret::new(CONNECTION_STRING)),
        token_provider: None,
    };
    let (credential, _) = choose_credential(&address, &sources).expect("credential");
    let http = HttpClient::new(&HttpConfig::default()).expect("http");
    BlobStore::new(
        address,
        &credential,
        &http,
        BlobStoreOptions {
            lease: Duration::from_secs(lease_secs),
        },
    )
    .expect("store")
}

fn checkpoint(marker: &str) -> Checkpoint {
    let mut c = Checkpoint::new("files", "hash");
    c.inputs
        .insert("marker".to_string(), serde_json::json!(marker));
    c
}

fn marker(c: &Checkpoint) -> &str {
    c.inputs["marker"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checkpoint_round_trips_and_each_locked_session_keeps_the_previous_state() {
    let az = Azurite::start();
    az.create_container("state");
    let url = az.blob_url("state", "team/adt/checkpoint.json");
    let s = store(&url, 60);
    assert_eq!(s.location(), url);

    let lock = s.lock().await.unwrap();
    assert_eq!(
        s.load().await.unwrap(),
        None,
        "a new blob holds no checkpoint"
    );
    s.save(&checkpoint("one")).await.unwrap();
    s.save(&checkpoint("two")).await.unwrap();
    drop(lock);

    let again = store(&url, 60);
    let lock = again.lock().await.unwrap();
    assert_eq!(marker(&again.load().await.unwrap().unwrap()), "two");
    again.save(&checkpoint("three")).await.unwrap();
    again.save(&checkpoint("four")).await.unwrap();
    drop(lock);

    let history = again.history().await.unwrap();
    assert_eq!(
        history.len(),
        2,
        "current + one snapshot per run: {history:?}"
    );
    assert!(history[0].snapshot.is_none());
    let snap = history[1].snapshot.clone().unwrap();
    let note = history[1].note.clone().unwrap();
    assert!(
        note.contains(&format!("process {}", std::process::id())),
        "{note}"
    );
    let kept = again.load_snapshot(&snap).await.unwrap();
    assert_eq!(
        marker(&kept),
        "two",
        "the snapshot holds the state before the run"
    );
    assert_eq!(marker(&again.load().await.unwrap().unwrap()), "four");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_lock_fails_at_once_naming_the_holder_and_works_after_release() {
    let az = Azurite::start();
    az.create_container("state");
    let url = az.blob_url("state", "cp.json");
    let first = store(&url, 60);
    let held = first.lock().await.unwrap();

    let second = store(&url, 60);
    let started = std::time::Instant::now();
    let err = second.lock().await.err().expect("second lock must fail");
    assert!(started.elapsed() < Duration::from_secs(10), "fails fast");
    let text = err.to_string();
    assert!(matches!(err, CheckpointError::Locked { .. }), "{text}");
    assert!(
        text.contains(&format!("process {}", std::process::id())) && text.contains("host "),
        "{text}"
    );
    assert!(text.contains("twinup unlock --force"), "{text}");

    drop(held);
    let _ = second.lock().await.expect("released on drop");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lease_is_renewed_while_the_lock_is_held() {
    let az = Azurite::start();
    az.create_container("state");
    let url = az.blob_url("state", "cp.json");
    let first = store(&url, 15);
    let _held = first.lock().await.unwrap();
    // Longer than the 15 s lease: without renewal it would have expired.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let err = store(&url, 15).lock().await.err().expect("still locked");
    assert!(matches!(err, CheckpointError::Locked { .. }), "{err}");
    first.save(&checkpoint("still mine")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_based_on_an_old_read_is_refused_and_overwrites_nothing() {
    let az = Azurite::start();
    az.create_container("state");
    let url = az.blob_url("state", "cp.json");
    let seed = store(&url, 60);
    let lock = seed.lock().await.unwrap();
    seed.save(&checkpoint("base")).await.unwrap();
    drop(lock);

    // Two writers without the lock: both read, one writes, the other's write must fail.
    let a = store(&url, 60);
    let b = store(&url, 60);
    a.load().await.unwrap();
    b.load().await.unwrap();
    b.save(&checkpoint("b")).await.unwrap();
    let err = a.save(&checkpoint("a")).await.expect_err("ETag conflict");
    let text = err.to_string();
    assert!(
        text.contains("changed by another writer") && text.contains("ConditionNotMet"),
        "{text}"
    );
    assert!(text.contains("nothing was overwritten"), "{text}");
    assert_eq!(marker(&store(&url, 60).load().await.unwrap().unwrap()), "b");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_lease_stops_the_old_holder_from_writing() {
    let az = Azurite::start();
    az.create_container("state");
    let url = az.blob_url("state", "cp.json");
    let old = store(&url, 60);
    let old_lock = old.lock().await.unwrap();
    old.load().await.unwrap();
    old.save(&checkpoint("old")).await.unwrap();

    // `twinup unlock --force`, then another run takes over and writes.
    let breaker = store(&url, 60);
    let holder = breaker.break_lease().await.unwrap().expect("it was leased");
    assert!(holder.contains(&format!("process {}", std::process::id())));
    let new = store(&url, 60);
    let new_lock = new.lock().await.unwrap();
    assert_eq!(marker(&new.load().await.unwrap().unwrap()), "old");
    new.save(&checkpoint("new")).await.unwrap();

    let err = old.save(&checkpoint("stale")).await.expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("lost its lease"), "{text}");
    drop(old_lock);
    assert_eq!(marker(&new.load().await.unwrap().unwrap()), "new");
    new.save(&checkpoint("newer"))
        .await
        .expect("the new holder still writes");
    drop(new_lock);
    assert_eq!(
        breaker.break_lease().await.unwrap(),
        None,
        "released: nothing to break"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn damaged_blobs_and_missing_containers_are_reported_not_replaced() {
    let az = Azurite::start();
    az.create_container("state");
    assert_eq!(
        az.put_blob("state", "cp.json", b"{\"schema_version\": 1, \"pl"),
        201
    );
    let s = store(&az.blob_url("state", "cp.json"), 60);
    let err = s.load().await.expect_err("damaged");
    assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");

    let newer = br#"{"schema_version": 99}"#;
    assert_eq!(az.put_blob("state", "newer.json", newer), 201);
    let err = store(&az.blob_url("state", "newer.json"), 60)
        .load()
        .await
        .expect_err("newer");
    assert!(
        matches!(err, CheckpointError::NewerSchema { found: 99, .. }),
        "{err}"
    );

    let missing = store(&az.blob_url("nosuchcontainer", "cp.json"), 60);
    let text = missing
        .lock()
        .await
        .err()
        .expect("no container")
        .to_string();
    assert!(text.contains("container does not exist"), "{text}");
    assert!(text.contains("az storage container create"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_account_key_is_refused_with_advice() {
    let az = Azurite::start();
    az.create_container("state");
    let address = BlobAddress::parse(&az.blob_url("state", "cp.json")).unwrap();
    let sources = CredentialSources {
        connection_string: Some(Secret::new(
            "AccountName=devstoreaccount1;AccountKey=d3Jvbmcga2V5IGZvciB0aGUgYWNjb3VudA==",
        )),
        token_provider: None,
    };
    let (credential, _) = choose_credential(&address, &sources).unwrap();
    let http = HttpClient::new(&HttpConfig::default()).unwrap();
    let s = BlobStore::new(address, &credential, &http, BlobStoreOptions::default()).unwrap();
    let text = s.load().await.expect_err("refused").to_string();
    assert!(text.contains("HTTP 403"), "{text}");
    assert!(
        text.contains("account key") && text.contains("SAS"),
        "{text}"
    );
    assert!(!text.contains("sig="), "no SAS in messages: {text}");
}
