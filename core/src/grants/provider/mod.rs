//! [`ServiceProvider`]: a provider's client (an insurer, a dealer), usable from a server:
//! registers its service, asks owners for data (paying a priced request into an escrow
//! that names it), waits for their answer, opens what it received, checks every record
//! and result against the ledger, and accepts the owner's declared delivery, which
//! releases the escrow to the owner.
//!
//! - `asking`: sending a request, paying it and waiting for the owner's answer.
//! - `receiving`: the owner's delivery, checked and settled on its escrow.
//! - `opening`: opening delivered records and checking a result's inputs.
//! - `checks`: the pure checks of a grant, a result and copy tags.

mod asking;
mod checks;
mod opening;
mod receiving;
#[cfg(test)]
mod tests;

pub(crate) use checks::check_delivers_opening;
pub use checks::{check_copy_tags, check_grant, check_result};

use crate::clock::{SharedClock, system_clock};
use core::fmt;
use std::time::Duration;

use bitcoin::CompressedPublicKey;
use bitcoin::secp256k1::SecretKey;
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use serde_json::Value;

use crate::compute::{ProgramOutput, SignedResult};
use crate::grants::error::GrantsResult;
use crate::grants::ledger::GrantsLedger;
use crate::grants::terms::{Delivery, RequestTerms};
use crate::keys::{Network, SigningKey, rsa_fingerprint_bytes, rsa_public_key_pkcs1_der};
use crate::protocol::signing::p2wpkh_address;
use crate::protocol::{EscrowState, GrantOpening, GrantState, ProviderRegister, RecordRef, TxBody};

/// How often [`ServiceProvider::wait_for_result`] asks the ledger.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A provider's service: its secp256k1 account key and RSA key pair. Secret: `Debug`
/// shows only the address; the account key is erased on drop (the RSA key zeroizes
/// itself).
pub struct ServiceProvider {
    signing: SigningKey,
    pub(super) rsa: RsaPrivateKey,
    pub(super) network: Network,
    /// What "now" is when the provider judges a grant's expiry and signs webhook calls.
    clock: SharedClock,
}

impl fmt::Debug for ServiceProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::keys::fmt_account_holder(f, "ServiceProvider", &self.address())
    }
}

/// What a provider asks an owner for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// The owner asked.
    pub owner_address: String,
    /// Formats, period, privileges and copy-or-computation.
    pub terms: RequestTerms,
    /// Why, shown to the owner.
    pub purpose: String,
    /// Offered price.
    pub price: u64,
    /// Expiry (unix ms), if any.
    pub expires_at: Option<u64>,
}

/// A record received in a copy, decrypted and checked against its dHash and cHash.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedRecord {
    /// The data address.
    pub address: String,
    /// The key bytes as the ledger registers them (a car record's stored key).
    pub key: Vec<u8>,
    /// The range-ordered plaintext key, sealed in the envelope.
    pub plain_key: Vec<u8>,
    /// The format.
    pub format: String,
    /// The decrypted value.
    pub value: Value,
    /// Its dHash on the ledger.
    pub d_hash: [u8; 32],
    /// Its copy tag (see [`crate::crypto::copy_tag`]), computed from the received key.
    pub copy_tag: [u8; 32],
}

/// A copy received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedCopy {
    /// The ledger grant behind it.
    pub grant: GrantState,
    /// The opening of the grant's commitment, checked against it.
    pub opening: GrantOpening,
    /// Every granted record, opened and verified.
    pub records: Vec<ReceivedRecord>,
    /// The escrow that paid for it, after this provider accepted the delivery
    /// (`Released`); `None` for a free request.
    pub payment: Option<EscrowState>,
}

/// A computation's result received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedResult {
    /// The ledger grant behind it.
    pub grant: GrantState,
    /// The opening of the grant's commitment, checked against it.
    pub opening: GrantOpening,
    /// The result, its owner signature checked.
    pub signed: SignedResult,
    /// The records it read, each registered with the dHash the result names.
    pub inputs: Vec<RecordRef>,
    /// The owner's identity key that signed it.
    pub owner_key: CompressedPublicKey,
    /// The escrow that paid for it, after this provider accepted the delivery
    /// (`Released`); `None` for a free request.
    pub payment: Option<EscrowState>,
}

impl ReceivedResult {
    /// The decoded output of a shipped program.
    pub fn output(&self) -> Option<&ProgramOutput> {
        self.signed.result.decoded.as_ref()
    }
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestOutcome {
    /// The owner approved; the copy was delivered and verified.
    Copy(Box<ReceivedCopy>),
    /// The owner approved; the result was delivered and verified.
    Result(Box<ReceivedResult>),
    /// The owner rejected.
    Rejected,
}

impl ServiceProvider {
    /// A provider holding `account` (its ledger account) and `rsa` (what grants are
    /// wrapped to).
    pub fn new(account: SecretKey, rsa: RsaPrivateKey, network: Network) -> Self {
        ServiceProvider {
            signing: SigningKey::from_secret_key(account),
            rsa,
            network,
            clock: system_clock(),
        }
    }

    /// This provider judging grant expiries and timing its webhook requests by `clock`
    /// rather than the system clock.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock this provider reads.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The provider's account key (signs its ledger transactions and webhook
    /// registrations); never leaves the SDK.
    pub(crate) fn account_key(&self) -> &SecretKey {
        self.signing.secret_key()
    }

    /// The provider's account address.
    pub fn address(&self) -> String {
        p2wpkh_address(&self.signing.public_key().0, self.network)
    }

    /// The RSA public key grants are wrapped to.
    pub fn rsa_public_key(&self) -> RsaPublicKey {
        self.rsa.to_public_key()
    }

    /// SHA-256 of the RSA public key's PKCS#1 DER.
    pub fn rsa_fingerprint(&self) -> GrantsResult<[u8; 32]> {
        Ok(rsa_fingerprint_bytes(&self.rsa_public_key())?)
    }

    /// Registers the service (ProviderRegister): name, description, the RSA key and the
    /// code hashes of the computations it offers.
    pub async fn register(
        &self,
        ledger: &GrantsLedger,
        name: &str,
        description: &str,
        code_hashes: Vec<[u8; 32]>,
    ) -> GrantsResult<()> {
        let body = TxBody::ProviderRegister(ProviderRegister {
            name: name.to_owned(),
            description: description.to_owned(),
            rsa_public_der: rsa_public_key_pkcs1_der(&self.rsa_public_key())?,
            code_hashes,
        });
        ledger.submit(self.signing.secret_key(), body).await?;
        Ok(())
    }

    /// Opens an auditor's countersignature sealed to this provider for the attestation
    /// `tx_id` about grant `grant_id` (see [`super::auditor::Countersignature`]).
    pub fn open_countersignature(
        &self,
        sealed: &[u8],
        grant_id: &[u8; 32],
        tx_id: &[u8; 32],
    ) -> Result<super::auditor::Countersignature, super::auditor::AuditError> {
        super::auditor::Countersignature::open_sealed(sealed, grant_id, tx_id, &self.rsa)
    }

    /// Whether `terms` name a computation this provider can be asked for.
    pub fn is_computation(terms: &RequestTerms) -> bool {
        matches!(terms.delivery, Delivery::Compute { .. })
    }
}
