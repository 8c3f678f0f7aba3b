//! A countersignature as the auditor hands it to whoever relies on it: the signed
//! attestation transaction and its commitment's opening, sealed to the requester.

use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};

use super::error::{AuditError, AuditResult};
use crate::crypto::{Envelope, EpochKeyCache, RecordContext, SealingEpoch, seal};
use crate::grants::error::GrantsError;
use crate::protocol::{AttestationOpening, SignedTransaction, TxBody};

/// Format name bound into a sealed countersignature.
pub const COUNTERSIGNATURE_FORMAT: &str = "carchain-countersignature";

/// A countersignature as the auditor hands it over: the signed attestation
/// transaction and the opening of its commitment. Seal it to the requester with
/// [`Self::seal_for`]; nothing of it but the transaction is on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Countersignature {
    /// The signed `AuditorAttestation` (also on the ledger).
    pub tx: SignedTransaction,
    /// The claim and dHashes behind its commitment.
    pub opening: AttestationOpening,
}

impl Countersignature {
    fn context(tx_id: &[u8; 32]) -> ([u8; 32], &'static str) {
        (*tx_id, COUNTERSIGNATURE_FORMAT)
    }

    /// The countersignature sealed to `requester`'s RSA key (envelope bound to the
    /// transaction id): only the requester opens it.
    pub fn seal_for(&self, requester: &RsaPublicKey) -> AuditResult<Vec<u8>> {
        let plaintext =
            serde_json::to_vec(self).map_err(|e| GrantsError::MalformedDocument(e.to_string()))?;
        let (key, format) = Self::context(&self.tx.id());
        let subject = attestation_subject(&self.tx)?;
        let ctx = RecordContext {
            address: &subject,
            key_bytes: &key,
            format,
        };
        let epoch = SealingEpoch::new(requester).map_err(GrantsError::from)?;
        Ok(seal(&plaintext, &ctx, &epoch)
            .and_then(|envelope| envelope.to_bytes())
            .map_err(GrantsError::from)?)
    }

    /// Opens a countersignature sealed to `requester` for the attestation about grant
    /// `grant_id` with transaction id `tx_id` (as recorded on the grant).
    pub fn open_sealed(
        sealed: &[u8],
        grant_id: &[u8; 32],
        tx_id: &[u8; 32],
        requester: &RsaPrivateKey,
    ) -> AuditResult<Self> {
        let (key, format) = Self::context(tx_id);
        let subject = hex::encode(grant_id);
        let ctx = RecordContext {
            address: &subject,
            key_bytes: &key,
            format,
        };
        let plaintext = Envelope::from_bytes(sealed)
            .and_then(|envelope| {
                envelope.open_with_owner_key(&ctx, requester, &mut EpochKeyCache::new())
            })
            .map_err(GrantsError::from)?;
        let opened: Countersignature = serde_json::from_slice(&plaintext)
            .map_err(|e| GrantsError::MalformedDocument(e.to_string()))?;
        if opened.tx.id() != *tx_id {
            return Err(AuditError::AttestationInvalid(
                "the sealed countersignature is of another transaction".into(),
            ));
        }
        Ok(opened)
    }
}

fn attestation_subject(tx: &SignedTransaction) -> AuditResult<String> {
    match &tx.tx.body {
        TxBody::AuditorAttestation(body) => Ok(body.subject.clone()),
        _ => Err(AuditError::AttestationInvalid(
            "not an auditor attestation".into(),
        )),
    }
}
