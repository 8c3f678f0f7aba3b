//! Tests of `webhooks.sqlite`: the outbox and its attempt counts across reopen, replays,
//! failed notifications kept and counted, deletes and their tombstone, nonces, and the
//! upgrade of a version 0 store.

use super::*;

fn item(id: u8, provider: &str) -> NewNotification {
    NewNotification {
        id: [id; 32],
        provider: provider.into(),
        body: b"{}".to_vec(),
    }
}

fn failure(retry_at_ms: Option<u64>) -> Failure<'static> {
    Failure {
        class: "status",
        status: Some(500),
        at_ms: 400,
        retry_at_ms,
    }
}

#[test]
fn outbox_survives_reopen_and_replays_are_stale() {
    let dir = tempfile::tempdir().expect("dir");
    let store = WebhookStore::open(dir.path(), 5).expect("open");
    assert_eq!(store.cursor().expect("cursor"), 5);
    assert_eq!(
        store
            .register("p1", "http://127.0.0.1:9/h", &[1; 32], 10, 4)
            .expect("reg"),
        Registered::Stored
    );
    assert_eq!(
        store
            .register("p1", "http://127.0.0.1:9/old", &[1; 32], 10, 4)
            .expect("reg"),
        Registered::Stale
    );
    store.enqueue(7, &[item(9, "p1")], 100).expect("enqueue");
    store
        .failed(&[9; 32], "p1", &failure(Some(500)))
        .expect("failed");
    drop(store);
    let store = WebhookStore::open(dir.path(), 0).expect("reopen");
    assert_eq!(store.cursor().expect("cursor"), 7);
    assert!(store.due(499, 10).expect("due").is_empty());
    let due = store.due(500, 10).expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempts, 1);
    assert_eq!(due[0].created_at_ms, 100);
    assert_eq!(due[0].url, "http://127.0.0.1:9/h");
    store.delivered(&due[0].id, "p1").expect("delivered");
    assert_eq!(store.pending().expect("pending"), 0);
    let state = store.state("p1").expect("state").expect("hook");
    assert_eq!((state.delivered, state.pending, state.failed), (1, 0, 0));
    assert_eq!(state.last_error.as_deref(), Some("status"));
    assert_eq!(state.last_status, Some(500));
    assert_eq!(state.height, 4);
}

#[test]
fn a_notification_given_up_is_kept_failed_counted_and_not_due() {
    let dir = tempfile::tempdir().expect("dir");
    let store = WebhookStore::open(dir.path(), 0).expect("open");
    store
        .register("p1", "http://127.0.0.1:9/h", &[1; 32], 10, 0)
        .expect("reg");
    store
        .enqueue(1, &[item(1, "p1"), item(2, "p1")], 100)
        .expect("enqueue");
    store
        .failed(&[1; 32], "p1", &failure(None))
        .expect("give up");
    assert_eq!(store.due(u64::MAX / 2, 10).expect("due").len(), 1);
    assert_eq!(store.failed_count().expect("failed"), 1);
    assert_eq!(store.pending().expect("pending"), 1);
    drop(store);
    let store = WebhookStore::open(dir.path(), 0).expect("reopen");
    let state = store.state("p1").expect("state").expect("hook");
    assert_eq!((state.pending, state.failed), (1, 1));
    assert_eq!(store.attempts("p1").expect("attempts"), [1, 0]);
}

#[test]
fn a_delete_forgets_url_secret_and_outbox_but_refuses_older_registrations() {
    let dir = tempfile::tempdir().expect("dir");
    let store = WebhookStore::open(dir.path(), 0).expect("open");
    store
        .register("p1", "http://127.0.0.1:9/h", &[1; 32], 10, 0)
        .expect("reg");
    store.enqueue(1, &[item(1, "p1")], 100).expect("enqueue");
    assert_eq!(store.delete("p1", 9).expect("stale"), Deleted::Stale);
    assert_eq!(store.delete("p2", 20).expect("none"), Deleted::NotFound);
    assert_eq!(store.delete("p1", 10).expect("delete"), Deleted::Deleted);
    assert_eq!(store.delete("p1", 11).expect("again"), Deleted::NotFound);
    assert!(!store.has_hook("p1").expect("has"));
    assert!(store.state("p1").expect("state").is_none());
    assert!(store.due(u64::MAX / 2, 10).expect("due").is_empty());
    assert_eq!(store.pending().expect("pending"), 0);
    let db = store.lock().expect("lock");
    let (url, secret): (String, Vec<u8>) = db
        .query_row(
            "SELECT url, secret FROM hooks WHERE provider = 'p1'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("tombstone");
    assert!(
        url.is_empty() && secret.is_empty(),
        "URL and secret forgotten"
    );
    drop(db);
    // The deleted registration, replayed, is refused; a later one is taken.
    assert_eq!(
        store
            .register("p1", "http://127.0.0.1:9/h", &[1; 32], 10, 0)
            .expect("replay"),
        Registered::Stale
    );
    assert_eq!(
        store
            .register("p1", "http://127.0.0.1:9/n", &[2; 32], 11, 3)
            .expect("new"),
        Registered::Stored
    );
    let state = store.state("p1").expect("state").expect("hook");
    assert_eq!(
        (state.url.as_str(), state.height),
        ("http://127.0.0.1:9/n", 3)
    );
}

#[test]
fn a_nonce_is_taken_once_and_forgotten_when_old() {
    let dir = tempfile::tempdir().expect("dir");
    let store = WebhookStore::open(dir.path(), 0).expect("open");
    assert!(store.take_nonce("p1", &[1; 32], 100, 0).expect("first"));
    assert!(!store.take_nonce("p1", &[1; 32], 100, 0).expect("again"));
    assert!(
        store
            .take_nonce("p2", &[1; 32], 100, 0)
            .expect("other provider")
    );
    assert!(
        store
            .take_nonce("p1", &[1; 32], 900, 500)
            .expect("forgotten")
    );
}

#[test]
fn a_version_0_store_is_upgraded_with_its_hooks_and_outbox() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Connection::open(dir.path().join("webhooks.sqlite")).expect("old");
    db.execute_batch(SCHEMA_V0).expect("v0");
    db.execute_batch(
        "INSERT INTO hooks VALUES ('p1', 'http://127.0.0.1:9/h', X'0101', 10);
         INSERT INTO outbox VALUES (X'09', 'p1', X'7b7d', 3, 1000);
         INSERT INTO cursor VALUES (1, 42);",
    )
    .expect("rows");
    drop(db);
    let store = WebhookStore::open(dir.path(), 0).expect("upgrade");
    assert_eq!(store.cursor().expect("cursor"), 42);
    let due = store.due(1000, 10).expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].attempts, due[0].created_at_ms), (3, 1000));
    assert_eq!(due[0].secret.as_slice(), [1, 1]);
    let state = store.state("p1").expect("state").expect("hook");
    assert_eq!((state.time, state.pending, state.failed), (10, 1, 0));
    drop(store);
    let store = WebhookStore::open(dir.path(), 0).expect("reopen upgraded");
    let version: i64 = store
        .lock()
        .expect("lock")
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version");
    assert_eq!(version, LAYOUT_VERSION);
}
