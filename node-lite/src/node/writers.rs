//! Who may store values on a private node, without learning who they are: every put
//! shows a write credential — a blind signature of this node's issuer key that one of
//! its paired cars or owners obtained ([`Node::issue`]) — bound to one address on first
//! use ([`crate::writes::table`]). The node learns that the writer is one of its users,
//! never which one, and cannot link two addresses through credentials. Credential-less
//! puts are taken only as open slots ([`crate::writes::open_slot`]): the pairing
//! mailbox and the data-request inbox, small fixed-shape values under an hourly quota.
//! A shared node stores everyone's data and checks none of this.

use carchain_core::protocol::credential_request_digest;

use super::*;
use crate::service::{CredentialHolder, CredentialKeyInfo, CredentialRequest, WriteCredential};
use crate::writes::{MAX_CREDENTIALS_PER_REQUEST, REQUEST_CLOCK_SKEW_SECS, open_slot};

/// What a put's check decided: count a stored value against this credential id.
pub(super) type Counted = Option<[u8; 32]>;

fn now_secs() -> u64 {
    now_ms() / 1000
}

impl Node {
    /// Checks that `put` may store its value here; binds the credential to the address
    /// on first use. Returns the credential id to count once the value is stored.
    pub(super) fn check_writer(
        &self,
        put: &RecordPut,
        credential: Option<&WriteCredential>,
    ) -> Result<Counted, ServiceError> {
        let Some(writes) = &self.writes else {
            return Ok(None);
        };
        let Some(credential) = credential else {
            if open_slot::is_open_slot(put) {
                writes.tables.take_open_slot(now_secs() / 3600)?;
                return Ok(None);
            }
            return Err(ServiceError::new(
                ErrorCode::CredentialMissing,
                "a private node stores values only with a write credential of its users",
            ));
        };
        let id = writes.issuer.verify(&credential.0)?;
        writes.tables.bind(&id, &put.address, now_secs())?;
        Ok(Some(id))
    }

    /// Counts a stored value against its credential (a retry that found the value
    /// stored already counts nothing).
    pub(super) fn count_stored(&self, counted: Counted, outcome: PutOutcome) {
        if let (Some(writes), Some(id), PutOutcome::Stored) = (&self.writes, counted, outcome)
            && let Err(err) = writes.tables.count_put(&id)
        {
            // The value is stored; an uncounted put only leaves the credential one more.
            tracing::warn!(%err, "a stored value was not counted against its credential");
        }
    }

    /// The issuer key's public form.
    pub(super) fn credential_key_info(&self) -> Result<CredentialKeyInfo, ServiceError> {
        let writes = self.writes.as_ref().ok_or_else(no_issuer)?;
        Ok(writes.issuer.info())
    }

    /// Signs `request`'s blinded messages for an authenticated holder: a device paired
    /// with this node as its agent, or the owner of one. Within its daily quota.
    pub(super) fn issue(&self, request: &CredentialRequest) -> Result<Vec<Vec<u8>>, ServiceError> {
        let writes = self.writes.as_ref().ok_or_else(no_issuer)?;
        let count = request.blinded.len();
        if count == 0 || count > MAX_CREDENTIALS_PER_REQUEST {
            return Err(ServiceError::new(
                ErrorCode::InvalidRequest,
                format!("ask for 1 to {MAX_CREDENTIALS_PER_REQUEST} credentials"),
            ));
        }
        let now = now_secs();
        if request.time.abs_diff(now) > REQUEST_CLOCK_SKEW_SECS {
            return Err(ServiceError::new(
                ErrorCode::InvalidRequest,
                "the request's time is too far from the node's clock",
            ));
        }
        let refused = |why: &str| ServiceError::new(ErrorCode::ModeRefused, why.to_owned());
        let (vid, kind, owner_bytes, key, holder) = match &request.holder {
            CredentialHolder::Device { vid } => (vid, "device", Vec::new(), None, vid.clone()),
            CredentialHolder::Owner { vid, owner_pubkey } => (
                vid,
                "owner",
                owner_pubkey.serialize().to_vec(),
                Some(*owner_pubkey),
                String::new(),
            ),
        };
        let state: DeviceState = self
            .read_state(state_key::device(vid))?
            .ok_or_else(|| refused("no such device"))?;
        if state.agent != self.config.agent || state.status != DeviceStatus::Active {
            return Err(refused("the device is not paired with this node"));
        }
        let (signer, holder) = match key {
            None => (state.device_pubkey, format!("device:{holder}")),
            Some(owner) => {
                if p2wpkh_address(&owner, self.genesis.network) != state.owner_address {
                    return Err(refused("the key is not the device owner's"));
                }
                (owner, format!("owner:{}", state.owner_address))
            }
        };
        let digest = credential_request_digest(
            &self.config.agent,
            kind,
            vid,
            &owner_bytes,
            request.time,
            &request.blinded,
        );
        let signature = signature_from_compact(&request.signature)
            .map_err(|_| ServiceError::new(ErrorCode::BadSignature, "bad signature encoding"))?;
        verify_digest(&signer, &digest, &signature, "credential request").map_err(|_| {
            ServiceError::new(ErrorCode::BadSignature, "the signature does not verify")
        })?;
        let signed = request
            .blinded
            .iter()
            .map(|blinded| writes.issuer.sign_blinded(blinded))
            .collect::<Result<Vec<_>, _>>()?;
        writes.tables.reserve_issuance(
            &holder,
            now / 86_400,
            u64::try_from(count).unwrap_or(u64::MAX),
        )?;
        Ok(signed)
    }
}

fn no_issuer() -> ServiceError {
    ServiceError::new(
        ErrorCode::ModeRefused,
        "a shared node issues no write credentials",
    )
}
