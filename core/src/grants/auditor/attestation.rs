//! Attestations on the ledger: appointing auditors, finding the countersignatures
//! recorded on a grant, and the provider's check of one before its grant completes.

use bitcoin::secp256k1::SecretKey;

use super::claim::{AUDITOR_CLAIM, MILEAGE_CLAIM_TAG, MileageClaim};
use super::error::{AuditError, AuditResult};
use crate::grants::error::GrantsError;
use crate::grants::ledger::GrantsLedger;
use crate::light::http::{NodeHttp, http_client};
use crate::protocol::{
    AttestationOpening, AttestationRef, AuditorAttestation, GrantState, SignedTransaction, TxBody,
};

/// A countersignature checked by a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAttestation {
    /// The auditor's address.
    pub auditor: String,
    /// The claim.
    pub claim: MileageClaim,
    /// The dHashes the auditor signed.
    pub d_hashes: Vec<[u8; 32]>,
    /// The attestation transaction's id, as recorded on the grant.
    pub tx_id: [u8; 32],
}

/// Makes `auditor_address` (a registered provider) an auditor: an attestation of
/// [`AUDITOR_CLAIM`] signed by an existing auditor (`appointer`, at first the chain's
/// operator).
pub async fn appoint_auditor(
    ledger: &GrantsLedger,
    appointer: &SecretKey,
    auditor_address: &str,
) -> AuditResult<()> {
    ledger
        .submit(
            appointer,
            TxBody::AuditorAttestation(AuditorAttestation {
                subject: auditor_address.to_owned(),
                claim: AUDITOR_CLAIM.to_owned(),
                commitment: [0; 32],
            }),
        )
        .await?;
    Ok(())
}

/// Whether `address` is a registered auditor on the ledger (its proven provider
/// registration carries the auditor flag).
pub async fn is_auditor(ledger: &GrantsLedger, address: &str) -> AuditResult<bool> {
    Ok(ledger
        .provider(address)
        .await?
        .is_some_and(|provider| provider.auditor))
}

/// The mileage countersignatures recorded on grant `grant_id` (proven), for a
/// provider waiting for one; fetch each transaction with [`fetch_transaction`] (or take
/// it from the auditor's sealed [`super::Countersignature`]) and check it against `claim` with
/// [`require_attestation`]. The ledger names only the kind of claim: which claim each
/// one countersigns is in its opening.
pub async fn recorded_attestations(
    ledger: &GrantsLedger,
    grant_id: &[u8; 32],
    claim: &MileageClaim,
) -> AuditResult<Vec<AttestationRef>> {
    claim.check()?;
    let grant = ledger
        .grant(grant_id)
        .await?
        .ok_or_else(|| GrantsError::GrantRefused("the grant is not on the ledger".into()))?;
    Ok(grant
        .attestations
        .into_iter()
        .filter(|a| a.claim == MILEAGE_CLAIM_TAG)
        .collect())
}

/// What a provider requires before its grant `grant_id` completes: `attestation` is a
/// valid countersignature of `claim` about that grant, signed by a registered auditor,
/// its opening hashes to the transaction's commitment, and the grant's proven state
/// records exactly that transaction. Returns the countersigned dHashes.
/// [`AuditError::AttestationMissing`] until the auditor has countersigned on the ledger.
pub async fn require_attestation(
    ledger: &GrantsLedger,
    grant_id: &[u8; 32],
    claim: &MileageClaim,
    attestation: &SignedTransaction,
    opening: &AttestationOpening,
) -> AuditResult<VerifiedAttestation> {
    let grant = ledger
        .grant(grant_id)
        .await?
        .ok_or_else(|| GrantsError::GrantRefused("the grant is not on the ledger".into()))?;
    let verified = check_attestation_tx(&grant, claim, attestation, opening)?;
    if !is_auditor(ledger, &verified.auditor).await? {
        return Err(AuditError::NotAnAuditor(verified.auditor));
    }
    Ok(verified)
}

/// The offline part of [`require_attestation`]: the transaction's signature, body and
/// subject, the opening against its commitment, and its id among the grant's recorded
/// attestations.
pub fn check_attestation_tx(
    grant: &GrantState,
    claim: &MileageClaim,
    attestation: &SignedTransaction,
    opening: &AttestationOpening,
) -> AuditResult<VerifiedAttestation> {
    let refuse = |why: &str| Err(AuditError::AttestationInvalid(why.to_owned()));
    if attestation.verify_signature().is_err() {
        return refuse("the signature does not verify");
    }
    let TxBody::AuditorAttestation(body) = &attestation.tx.body else {
        return refuse("not an auditor attestation");
    };
    if body.subject != hex::encode(grant.grant_id) {
        return refuse("the attestation is about another subject");
    }
    if body.claim != MILEAGE_CLAIM_TAG {
        return refuse("the attestation is not a mileage claim");
    }
    if opening.commitment() != body.commitment {
        return refuse("the opening does not match the attestation's commitment");
    }
    let text = claim.to_text()?;
    if opening.claim != text {
        return refuse("the attestation countersigns another claim");
    }
    let auditor = attestation.tx.signer_address();
    let tx_id = attestation.id();
    let recorded = grant
        .attestations
        .iter()
        .any(|a| a.auditor == auditor && a.claim == body.claim && a.tx_id == tx_id);
    if !recorded {
        return Err(AuditError::AttestationMissing {
            grant: hex::encode(grant.grant_id),
            auditor,
        });
    }
    Ok(VerifiedAttestation {
        auditor,
        claim: claim.clone(),
        d_hashes: opening.d_hashes.clone(),
        tx_id,
    })
}

/// Fetches the committed transaction `tx_id` from the node at `base` (`GET
/// /v1/tx/{id}`). The answer is trusted only as far as its id: a transaction whose id
/// is not `tx_id` is refused, and an id recorded in proven state binds the rest.
pub async fn fetch_transaction(base: &str, tx_id: &[u8; 32]) -> AuditResult<SignedTransaction> {
    let node = NodeHttp::new(base, http_client()?)?;
    node.transaction(tx_id).await?.ok_or_else(|| {
        AuditError::AttestationInvalid("the node has no such committed transaction".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::auditor::Countersignature;
    use crate::grants::auditor::claim::sample_claim as claim;
    use crate::keys::Network;
    use crate::protocol::Transaction;
    use crate::protocol::signing::public_key_of;

    fn opening(claim_text: &str) -> AttestationOpening {
        AttestationOpening {
            salt: [0x5a; 32],
            claim: claim_text.into(),
            d_hashes: vec![[4; 32], [5; 32]],
        }
    }

    fn attestation(
        secret_byte: u8,
        subject: &str,
        opening: &AttestationOpening,
    ) -> SignedTransaction {
        let secret = SecretKey::from_slice(&[secret_byte; 32]).expect("secret");
        Transaction {
            chain_id: "carchain-test".into(),
            network: Network::Regtest,
            signer: public_key_of(&secret),
            nonce: 0,
            fee: 10,
            body: TxBody::AuditorAttestation(AuditorAttestation {
                subject: subject.into(),
                claim: MILEAGE_CLAIM_TAG.into(),
                commitment: opening.commitment(),
            }),
        }
        .sign(&secret)
        .expect("sign")
    }

    fn grant_with(attestations: Vec<AttestationRef>) -> GrantState {
        serde_json::from_value(serde_json::json!({
            "grant_id": hex::encode([9u8; 32]),
            "grantor": "bcrt1qowner",
            "grantee_address": "bcrt1qdealer",
            "records_commitment": hex::encode([1u8; 32]),
            "copy_tags": [hex::encode([2u8; 32])],
            "kind": {"type": "copy", "resell": false, "dup": false},
            "expires_at": null,
            "status": "active",
            "height": 4,
        }))
        .map(|grant: GrantState| GrantState {
            attestations,
            ..grant
        })
        .expect("grant")
    }

    #[test]
    fn an_attestation_must_be_signed_about_the_grant_opened_and_recorded_on_it() {
        let text = claim().to_text().expect("text");
        let subject = hex::encode([9u8; 32]);
        let open = opening(&text);
        let tx = attestation(0x31, &subject, &open);
        // The ledger sees no VID and no dHash.
        let json = serde_json::to_string(&tx).expect("json");
        assert!(!json.contains("VIN-GRANTS-1"), "{json}");
        assert!(!json.contains(&hex::encode([4u8; 32])), "{json}");
        let recorded = AttestationRef {
            auditor: tx.tx.signer_address(),
            claim: MILEAGE_CLAIM_TAG.into(),
            tx_id: tx.id(),
        };
        let grant = grant_with(vec![recorded.clone()]);
        let verified = check_attestation_tx(&grant, &claim(), &tx, &open).expect("verified");
        assert_eq!(verified.auditor, tx.tx.signer_address());
        assert_eq!(verified.d_hashes, vec![[4; 32], [5; 32]]);
        assert_eq!(verified.tx_id, tx.id());

        // Not yet on the ledger.
        assert!(matches!(
            check_attestation_tx(&grant_with(vec![]), &claim(), &tx, &open),
            Err(AuditError::AttestationMissing { .. })
        ));
        // Recorded for another transaction (another signer).
        let other = attestation(0x32, &subject, &open);
        assert!(matches!(
            check_attestation_tx(&grant, &claim(), &other, &open),
            Err(AuditError::AttestationMissing { .. })
        ));
        // Another claim, an opening of other dHashes or another salt, another subject,
        // a broken signature, another kind.
        let more = MileageClaim {
            total_m: 99_999,
            ..claim()
        };
        assert!(matches!(
            check_attestation_tx(&grant, &more, &tx, &open),
            Err(AuditError::AttestationInvalid(_))
        ));
        let mut padded = open.clone();
        padded.d_hashes.push([6; 32]);
        assert!(matches!(
            check_attestation_tx(&grant, &claim(), &tx, &padded),
            Err(AuditError::AttestationInvalid(_))
        ));
        let mut resalted = open.clone();
        resalted.salt[0] ^= 1;
        assert!(check_attestation_tx(&grant, &claim(), &tx, &resalted).is_err());
        let elsewhere = attestation(0x31, &hex::encode([8u8; 32]), &open);
        assert!(matches!(
            check_attestation_tx(&grant, &claim(), &elsewhere, &open),
            Err(AuditError::AttestationInvalid(_))
        ));
        let mut forged = tx.clone();
        if let TxBody::AuditorAttestation(body) = &mut forged.tx.body {
            body.commitment = padded.commitment();
        }
        assert!(matches!(
            check_attestation_tx(&grant, &claim(), &forged, &padded),
            Err(AuditError::AttestationInvalid(_))
        ));
        let mut transfer = tx;
        transfer.tx.body = TxBody::Transfer(crate::protocol::Transfer {
            to: "bcrt1qx".into(),
            amount: 1,
        });
        assert!(check_attestation_tx(&grant, &claim(), &transfer, &open).is_err());
    }

    #[test]
    fn a_sealed_countersignature_opens_only_for_its_requester_and_transaction() {
        use crate::grants::test_keys::{outsider_rsa, provider_rsa};
        let text = claim().to_text().expect("text");
        let open = opening(&text);
        let tx = attestation(0x31, &hex::encode([9u8; 32]), &open);
        let countersignature = Countersignature {
            tx: tx.clone(),
            opening: open,
        };
        let sealed = countersignature
            .seal_for(provider_rsa().as_public_key())
            .expect("seal");
        let sealed_text = String::from_utf8_lossy(&sealed);
        assert!(!sealed_text.contains("VIN-GRANTS-1"));
        let opened = Countersignature::open_sealed(&sealed, &[9; 32], &tx.id(), provider_rsa())
            .expect("open");
        assert_eq!(opened, countersignature);
        assert!(
            Countersignature::open_sealed(&sealed, &[9; 32], &tx.id(), outsider_rsa()).is_err()
        );
        assert!(
            Countersignature::open_sealed(&sealed, &[8; 32], &tx.id(), provider_rsa()).is_err()
        );
        assert!(
            Countersignature::open_sealed(&sealed, &[9; 32], &[1; 32], provider_rsa()).is_err()
        );
    }
}
