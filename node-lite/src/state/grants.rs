//! Rules of grants: `Grant`, `Revoke`, `Renounce`, and what a device `Reset` does to
//! the previous owner's grants.
//!
//! A grant on the ledger names no record (tx format v3): its (address, key) list and
//! the grantee's RSA key are behind a salted commitment whose opening only grantor and
//! grantee hold, and the records a copy hands over appear as opaque copy tags (an HMAC
//! under each record's own key, see `carchain_core::crypto::copy_tag`).
//!
//! Enforced on the ledger:
//! - a grant id is used once (a replayed grant is refused: `DuplicateId`);
//! - a copy or trade names at least one copy tag, sorted and distinct; a usage grant
//!   none; the grantee is not the grantor, and an expiry, if any, is still ahead of the
//!   ledger clock (`Expired`);
//! - copy rights: a `Copy { resell, dup }` grant records, per copy tag, what its
//!   grantee may do with that record. A later grant *by that grantee* naming such a tag
//!   is refused when `resell` was false (`ResaleRefused`) or when the grant it came with
//!   is no longer in force; with `resell` but not `dup` the copy can be sold on once
//!   (the right is spent). Rights only tighten: a second copy of the same record never
//!   relaxes them. The tags are the grantee's to check: it computes each delivered
//!   record's tag from the key it received and refuses a grant whose tags differ, so a
//!   reseller who hides or changes a tag delivers a copy its buyer refuses;
//! - `Revoke` is signed by the grantor only, `Renounce` by the grantee only
//!   (`NotParty`), and only an active grant ends;
//! - a grant's expiry is not a transaction: it is in force while `status == Active` and
//!   the ledger clock is before `expires_at` ([`in_force`]);
//! - a device `Reset` to another owner ends (`Ended`) every grant the previous owner
//!   still has active. The ledger cannot tell which car a record came from (pool
//!   addresses are unlinkable by design), so this is per owner, not per car: an owner
//!   of several cars who sells one grants again for the others.
//!
//! Not enforced here (the client's job, with the opening of the commitment): that the
//! records exist and the grantor owns the pool addresses it grants (only the owner can
//! re-wrap the record keys, so a stranger's grant delivers nothing), and that a provider
//! reads only records it was granted; the grant's commitment and tags are queryable
//! with a state proof for that check.

use carchain_core::protocol::{
    Canonical, Grant, GrantKind, GrantRef, GrantState, GrantStatus, Reader, Writer, state_key,
};
use jmt::KeyHash;

use super::error::TxError;
use super::layer::Layer;
use super::lookup::{hex_id, live_at, load, require_live, require_unused};
use super::rules::ExecContext;

/// What a grantee may do with a record it received as a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyRight {
    /// The grant the copy came with.
    pub grant_id: [u8; 32],
    /// It may be granted on.
    pub resell: bool,
    /// It may be granted on more than once.
    pub dup: bool,
}

impl Canonical for CopyRight {
    fn encode_to(&self, w: &mut Writer) {
        self.grant_id.encode_to(w);
        self.resell.encode_to(w);
        self.dup.encode_to(w);
    }
    fn decode_from(r: &mut Reader<'_>) -> carchain_core::protocol::Result<Self> {
        Ok(Self {
            grant_id: Canonical::decode_from(r)?,
            resell: Canonical::decode_from(r)?,
            dup: Canonical::decode_from(r)?,
        })
    }
}

/// The tree key of `holder`'s copy right over the record whose copy tag is `tag`.
pub fn copy_right_key(holder: &str, tag: &[u8; 32]) -> KeyHash {
    state_key::meta(&format!("grants/copy-right/{holder}/{}", hex::encode(tag)))
}

/// Most copy tags one grant names.
pub const MAX_COPY_TAGS: usize = 100_000;

/// The tree key of the ids of the grants `grantor` made that may still be active.
pub fn grantor_index_key(grantor: &str) -> KeyHash {
    state_key::meta(&format!("grants/by-grantor/{grantor}"))
}

/// Whether `grant` is in force at ledger time `now`: active and not expired.
pub fn in_force(grant: &GrantState, now: u64) -> bool {
    grant.status == GrantStatus::Active && live_at(grant.expires_at, now)
}

/// The grant `id`, or `NotFound`.
pub(super) fn grant(state: &Layer<'_>, id: &[u8; 32]) -> Result<GrantState, TxError> {
    load(state, state_key::grant(id), "grant", id)
}

/// The copy the grantor received under another grant for any of `tags`, checked for
/// being sold on: the first such grant id (the new grant's parent), if any.
fn check_copy_rights(
    state: &Layer<'_>,
    ctx: &ExecContext<'_>,
    grantor: &str,
    tags: &[[u8; 32]],
) -> Result<Option<[u8; 32]>, TxError> {
    let mut parent = None;
    for tag in tags {
        let Some(right) = state.get::<CopyRight>(copy_right_key(grantor, tag))? else {
            continue;
        };
        if !right.resell {
            return Err(TxError::ResaleRefused {
                grant_id: hex_id(&right.grant_id),
            });
        }
        let received = grant(state, &right.grant_id)?;
        if !in_force(&received, ctx.time) {
            return Err(TxError::WrongStatus {
                what: "grant",
                status: format!("{:?}", received.status).to_lowercase(),
                reason: "the copy being sold on must come with a grant in force",
            });
        }
        parent.get_or_insert(right.grant_id);
    }
    Ok(parent)
}

/// Read-only checks of a `Grant` signed by `signer`.
pub(super) fn validate_grant(
    state: &Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &Grant,
) -> Result<(), TxError> {
    require_unused(
        state,
        state_key::grant(&body.grant_id),
        "grant",
        &body.grant_id,
    )?;
    match body.kind {
        GrantKind::Usage { .. } if !body.copy_tags.is_empty() => {
            return Err(TxError::Invalid(
                "a usage grant hands over no copy and names no copy tag".into(),
            ));
        }
        GrantKind::Usage { .. } => {}
        GrantKind::Copy { .. } | GrantKind::Trade if body.copy_tags.is_empty() => {
            return Err(TxError::Invalid(
                "a copy names the copy tag of at least one record".into(),
            ));
        }
        GrantKind::Copy { .. } | GrantKind::Trade => {}
    }
    if body.copy_tags.len() > MAX_COPY_TAGS {
        return Err(TxError::Invalid(format!(
            "a grant names at most {MAX_COPY_TAGS} copy tags"
        )));
    }
    if body.copy_tags.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(TxError::Invalid("copy tags are sorted and distinct".into()));
    }
    if body.grantee_address == signer {
        return Err(TxError::Invalid("a grant cannot be to its grantor".into()));
    }
    if body.expires_at.is_some() {
        require_live("grant", body.expires_at, ctx.time)?;
    }
    check_copy_rights(state, ctx, signer, &body.copy_tags)?;
    Ok(())
}

/// Writes a validated `Grant`: the grant, the grantor's index, the grantee's copy rights
/// and, for a copy sold on without `dup`, the grantor's spent right.
pub(super) fn apply_grant(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &Grant,
) -> Result<(), TxError> {
    let parent_grant = check_copy_rights(state, ctx, signer, &body.copy_tags)?;
    for tag in &body.copy_tags {
        let key = copy_right_key(signer, tag);
        if let Some(mut right) = state.get::<CopyRight>(key)?
            && !right.dup
        {
            right.resell = false;
            state.put_value(key, &right);
        }
    }
    if let GrantKind::Copy { resell, dup } = body.kind {
        for tag in &body.copy_tags {
            let key = copy_right_key(&body.grantee_address, tag);
            let right = match state.get::<CopyRight>(key)? {
                Some(old) => CopyRight {
                    grant_id: old.grant_id,
                    resell: old.resell && resell,
                    dup: old.dup && dup,
                },
                None => CopyRight {
                    grant_id: body.grant_id,
                    resell,
                    dup,
                },
            };
            state.put_value(key, &right);
        }
    }
    let index_key = grantor_index_key(signer);
    let mut index: Vec<[u8; 32]> = state.get(index_key)?.unwrap_or_default();
    index.push(body.grant_id);
    state.put_value(index_key, &index);
    state.put_value(
        state_key::grant(&body.grant_id),
        &GrantState {
            grant_id: body.grant_id,
            grantor: signer.to_owned(),
            grantee_address: body.grantee_address.clone(),
            records_commitment: body.records_commitment,
            copy_tags: body.copy_tags.clone(),
            kind: body.kind.clone(),
            expires_at: body.expires_at,
            status: GrantStatus::Active,
            height: ctx.height,
            parent_grant,
            attestations: Vec::new(),
        },
    );
    Ok(())
}

/// Who may end a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// `Revoke`: the grantor withdraws it.
    Revoke,
    /// `Renounce`: the grantee gives it up.
    Renounce,
}

/// Read-only checks of a `Revoke` or `Renounce` signed by `signer`.
pub(super) fn validate_end(
    state: &Layer<'_>,
    signer: &str,
    body: &GrantRef,
    ending: Ending,
) -> Result<(), TxError> {
    let current = grant(state, &body.grant_id)?;
    let (party, role) = match ending {
        Ending::Revoke => (&current.grantor, "grant's grantor"),
        Ending::Renounce => (&current.grantee_address, "grant's grantee"),
    };
    if party != signer {
        return Err(TxError::NotParty { role });
    }
    if current.status != GrantStatus::Active {
        return Err(TxError::WrongStatus {
            what: "grant",
            status: format!("{:?}", current.status).to_lowercase(),
            reason: "only an active grant ends",
        });
    }
    Ok(())
}

/// Ends the grant (validated).
pub(super) fn apply_end(
    state: &mut Layer<'_>,
    body: &GrantRef,
    ending: Ending,
) -> Result<(), TxError> {
    let mut current = grant(state, &body.grant_id)?;
    current.status = match ending {
        Ending::Revoke => GrantStatus::Revoked,
        Ending::Renounce => GrantStatus::Renounced,
    };
    state.put_value(state_key::grant(&body.grant_id), &current);
    Ok(())
}

/// A device changed hands from `previous_owner` to `new_owner`: every grant the previous
/// owner still has active ends (see the module doc for why per owner). Nothing changes
/// when the owner re-pairs the device to herself.
pub(super) fn end_on_transfer(
    state: &mut Layer<'_>,
    previous_owner: &str,
    new_owner: &str,
) -> Result<(), TxError> {
    if previous_owner == new_owner {
        return Ok(());
    }
    let index_key = grantor_index_key(previous_owner);
    let index: Vec<[u8; 32]> = state.get(index_key)?.unwrap_or_default();
    for id in &index {
        let mut current = grant(state, id)?;
        if current.status == GrantStatus::Active {
            current.status = GrantStatus::Ended;
            state.put_value(state_key::grant(id), &current);
        }
    }
    if !index.is_empty() {
        state.put_value(index_key, &Vec::<[u8; 32]>::new());
    }
    Ok(())
}
