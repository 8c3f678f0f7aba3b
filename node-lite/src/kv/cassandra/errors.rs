//! The Cassandra driver's errors as [`KvError`]s: no driver type leaves this module.
//!
//! A request that could not reach enough replicas (no connection, not enough live
//! replicas, a replica timeout, an overloaded or bootstrapping coordinator, the client
//! timeout) is [`KvError::Unavailable`] (`kv_unavailable`): nothing was acknowledged and a
//! retry may succeed. Anything else is [`KvError::Backend`] (`kv_backend`).

use scylla::errors::{
    DbError, ExecutionError, IntoRowsResultError, NewSessionError, PrepareError,
    RequestAttemptError,
};

use super::super::KvError;

/// Whether a database error means "not enough replicas answered" (retry later).
fn db_error_is_unavailable(err: &DbError) -> bool {
    matches!(
        err,
        DbError::Unavailable { .. }
            | DbError::Overloaded
            | DbError::IsBootstrapping
            | DbError::ReadTimeout { .. }
            | DbError::WriteTimeout { .. }
            | DbError::ReadFailure { .. }
            | DbError::WriteFailure { .. }
            | DbError::TruncateError
            | DbError::RateLimitReached { .. }
    )
}

/// Maps one request's failure.
pub(super) fn execution(err: ExecutionError) -> KvError {
    let unavailable = match &err {
        ExecutionError::EmptyPlan
        | ExecutionError::ConnectionPoolError(_)
        | ExecutionError::RequestTimeout(_)
        | ExecutionError::SchemaAgreementError(_)
        | ExecutionError::MetadataError(_) => true,
        ExecutionError::LastAttemptError(attempt) => attempt_is_unavailable(attempt),
        _ => false,
    };
    classify(unavailable, err.to_string())
}

fn attempt_is_unavailable(err: &RequestAttemptError) -> bool {
    match err {
        RequestAttemptError::DbError(db, _) => db_error_is_unavailable(db),
        RequestAttemptError::BrokenConnectionError(_)
        | RequestAttemptError::UnableToAllocStreamId => true,
        _ => false,
    }
}

/// Maps a failure to prepare a statement.
pub(super) fn prepare(err: PrepareError) -> KvError {
    let unavailable = match &err {
        PrepareError::ConnectionPoolError(_) => true,
        PrepareError::AllAttemptsFailed { first_attempt } => attempt_is_unavailable(first_attempt),
        _ => false,
    };
    classify(unavailable, err.to_string())
}

/// Maps a failure to connect: the cluster cannot be reached.
pub(super) fn connect(err: NewSessionError) -> KvError {
    KvError::Unavailable {
        detail: format!("cannot connect: {err}"),
    }
}

/// Maps a result that is not the rows it should be.
pub(super) fn rows(err: impl std::fmt::Display) -> KvError {
    KvError::Backend {
        detail: format!("unexpected result: {err}"),
    }
}

/// A result that should have carried rows carried none.
pub(super) fn not_rows(err: IntoRowsResultError) -> KvError {
    rows(err)
}

fn classify(unavailable: bool, detail: String) -> KvError {
    if unavailable {
        KvError::Unavailable { detail }
    } else {
        KvError::Backend { detail }
    }
}
