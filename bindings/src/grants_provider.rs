//! A service provider's client across the FFI (an insurer, a dealer): register the
//! service, ask an owner for data, wait for the answer and receive it verified. Kept
//! minimal: what an app or a test needs to play the provider's part against a wallet.
//!
//! The provider's keys derive from one 64-byte secret seed (as the `carchain provider`
//! key file does): its secp256k1 account key and its RSA-2048 key.
//!
//! Cancellation: `register` and `request` submit transactions and wait for their
//! blocks; a cancelled `request` may leave a request on the ledger that the owner never
//! hears of (its inbox entry is the last step). `wait_for_result` reads, then accepts a
//! paid delivery (one transaction); calling it again after a cancel is safe.

use std::sync::Arc;
use std::time::Duration;

use carchain_core::compute::ShippedProgram as CoreShippedProgram;
use carchain_core::grants::ServiceProvider as CoreServiceProvider;
use carchain_core::grants::provider::{RequestOutcome as CoreOutcome, RequestSpec};
use carchain_core::grants::terms::{PERIOD_FIELD_PREFIX, compute_field};
use carchain_core::grants::{Privilege as CorePrivilege, RequestTerms};
use carchain_core::keys::{RsaBits, SEED_LEN, Seed, WalletKeys};
use zeroize::Zeroizing;

use crate::error::CarChainError;
use crate::grants_ledger::GrantsLedger;
use crate::grants_types::{ComputationOutput, EscrowInfo, Privilege, parse_id};
use crate::inputs::to_json_text;
use crate::keys::Network;

/// A computation shipped with CarChain that wallets can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ShippedProgram {
    /// A 0..1000 usage-based-insurance driving score with its components.
    UbiScore,
    /// Total distance and trip count, for used-car valuation.
    Mileage,
}

/// The hex code hash of a shipped computation: what a provider registers and names in
/// a request.
#[uniffi::export]
pub fn shipped_program_hash(program: ShippedProgram) -> Result<String, CarChainError> {
    let program = match program {
        ShippedProgram::UbiScore => CoreShippedProgram::UbiScore,
        ShippedProgram::Mileage => CoreShippedProgram::Mileage,
    };
    let hash = program
        .program_hash()
        .map_err(|e| CarChainError::new("grants.compute", e.to_string()))?;
    Ok(hex::encode(hash))
}

/// What a provider asks an owner for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DataRequestSpec {
    /// The owner asked (their identity address).
    pub owner_address: String,
    /// Record formats (`trip-gps`, `VIN_CODE`, ...).
    pub formats: Vec<String>,
    /// First day, `YYYY-MM-DD`.
    pub from_date: String,
    /// Last day, `YYYY-MM-DD`.
    pub to_date: String,
    /// The kinds of data asked for.
    pub privileges: Vec<Privilege>,
    /// The hex code hash of a registered computation to run; `null`/`nil` asks for a
    /// copy of the records.
    #[uniffi(default)]
    pub computation: Option<String>,
    /// How often a standing computation delivers a result: `week` (the default when
    /// `null`/`nil`) or `month` (each calendar month); a copy names none
    /// (`standing.invalid_period`).
    #[uniffi(default)]
    pub compute_period: Option<String>,
    /// Why, shown to the owner.
    pub purpose: String,
    /// The price offered; above 0 it is paid into an escrow with the request.
    #[uniffi(default)]
    pub price: u64,
    /// When the request expires (unix ms), if it does.
    #[uniffi(default)]
    pub expires_at_ms: Option<u64>,
}

impl DataRequestSpec {
    fn to_core(&self) -> Result<RequestSpec, CarChainError> {
        let mut fields: Vec<String> = self
            .privileges
            .iter()
            .map(|p| CorePrivilege::from(*p).as_str().to_owned())
            .collect();
        if let Some(hash) = &self.computation {
            fields.push(compute_field(&parse_id(hash, "computation hash")?));
        }
        if let Some(period) = &self.compute_period {
            fields.push(format!("{PERIOD_FIELD_PREFIX}{period}"));
        }
        let terms = RequestTerms::parse(&self.formats, &self.from_date, &self.to_date, &fields)?;
        Ok(RequestSpec {
            owner_address: self.owner_address.clone(),
            terms,
            purpose: self.purpose.clone(),
            price: self.price,
            expires_at: self.expires_at_ms,
        })
    }
}

/// A record received in a copy, decrypted and checked against its dHash and cHash.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceivedRecord {
    /// The data address.
    pub address: String,
    /// The key bytes, hex.
    pub key_hex: String,
    /// The format.
    pub format: String,
    /// The decrypted value, JSON.
    pub value_json: String,
    /// Its dHash on the ledger, hex.
    pub d_hash: String,
}

/// How a request ended, as the provider received it (verified against the ledger).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum RequestOutcome {
    /// The owner approved a copy: the granted records, opened and verified.
    CopyDelivered {
        /// The ledger grant, hex.
        grant_id: String,
        /// The records.
        records: Vec<ReceivedRecord>,
        /// The escrow that paid for it, settled (`Released`); `null`/`nil` if free.
        payment: Option<EscrowInfo>,
    },
    /// The owner approved a computation: its owner-signed result, verified.
    ResultDelivered {
        /// The ledger grant, hex.
        grant_id: String,
        /// The hex hash of the program that ran.
        program_hash: String,
        /// The decoded output of a shipped program.
        output: Option<ComputationOutput>,
        /// How many records it read.
        input_count: u64,
        /// The escrow that paid for it, settled (`Released`); `null`/`nil` if free.
        payment: Option<EscrowInfo>,
    },
    /// The owner rejected the request.
    Rejected,
}

impl From<CoreOutcome> for RequestOutcome {
    fn from(outcome: CoreOutcome) -> Self {
        match outcome {
            CoreOutcome::Copy(copy) => RequestOutcome::CopyDelivered {
                grant_id: hex::encode(copy.grant.grant_id),
                records: copy
                    .records
                    .iter()
                    .map(|r| ReceivedRecord {
                        address: r.address.clone(),
                        key_hex: hex::encode(&r.key),
                        format: r.format.clone(),
                        value_json: to_json_text(&r.value),
                        d_hash: hex::encode(r.d_hash),
                    })
                    .collect(),
                payment: copy.payment.as_ref().map(EscrowInfo::from),
            },
            CoreOutcome::Result(result) => RequestOutcome::ResultDelivered {
                grant_id: hex::encode(result.grant.grant_id),
                program_hash: hex::encode(result.signed.result.program_hash),
                output: result.output().map(ComputationOutput::from),
                input_count: result.inputs.len() as u64,
                payment: result.payment.as_ref().map(EscrowInfo::from),
            },
            CoreOutcome::Rejected => RequestOutcome::Rejected,
        }
    }
}

/// A service provider: its ledger account and the RSA key grants are wrapped to.
/// Thread-safe; its keys stay in Rust (`Debug` shows only the address).
#[derive(Debug, uniffi::Object)]
pub struct ServiceProvider {
    pub(crate) provider: CoreServiceProvider,
    rsa_fingerprint: String,
}

#[uniffi::export(async_runtime = "tokio")]
impl ServiceProvider {
    /// The provider whose keys derive from the 64-byte secret `seed` on `network`.
    #[uniffi::constructor]
    pub fn from_seed(seed: Vec<u8>, network: Network) -> Result<Arc<Self>, CarChainError> {
        let seed = Zeroizing::new(seed);
        let mut bytes = Zeroizing::new([0u8; SEED_LEN]);
        if seed.len() != SEED_LEN {
            return Err(CarChainError::new(
                "grants.invalid_seed",
                format!("a provider seed is {SEED_LEN} bytes, not {}", seed.len()),
            ));
        }
        bytes.copy_from_slice(&seed);
        let keys = WalletKeys::from_seed(Seed::from_bytes(*bytes), network.into(), RsaBits::B2048)
            .map_err(|e| CarChainError::from_core(e.code(), e.to_string()))?;
        let provider = CoreServiceProvider::new(
            *keys.owner_key().secret_key(),
            keys.rsa_private_key().clone(),
            network.into(),
        );
        Ok(Arc::new(ServiceProvider {
            provider,
            rsa_fingerprint: keys.rsa_fingerprint().to_owned(),
        }))
    }

    /// The provider's account address (what the owner sees as the requester).
    pub fn address(&self) -> String {
        self.provider.address()
    }

    /// Hex SHA-256 of its RSA public key (PKCS#1 DER).
    pub fn rsa_fingerprint(&self) -> String {
        self.rsa_fingerprint.clone()
    }

    /// Registers the service on the ledger: `name`, `description` and the hex code
    /// hashes of the computations it offers.
    pub async fn register(
        &self,
        ledger: Arc<GrantsLedger>,
        name: String,
        description: String,
        code_hashes: Vec<String>,
    ) -> Result<(), CarChainError> {
        let hashes = code_hashes
            .iter()
            .map(|h| parse_id(h, "code hash"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self
            .provider
            .register(&ledger.ledger, &name, &description, hashes)
            .await?)
    }

    /// Sends a data request to the owner (paying a priced one into an escrow) and
    /// leaves it in the owner's inbox. Returns the request id, hex.
    pub async fn request(
        &self,
        ledger: Arc<GrantsLedger>,
        spec: DataRequestSpec,
    ) -> Result<String, CarChainError> {
        let spec = spec.to_core()?;
        let id = self.provider.request(&ledger.ledger, &spec).await?;
        Ok(hex::encode(id))
    }

    /// Waits up to `timeout_ms` for the owner's answer to `request_id` (hex), then
    /// opens and verifies what was delivered and, for a paid request, accepts the
    /// delivery (releasing the escrow to the owner). `NotYet` after the timeout.
    pub async fn wait_for_result(
        &self,
        ledger: Arc<GrantsLedger>,
        request_id: String,
        timeout_ms: u64,
    ) -> Result<RequestOutcome, CarChainError> {
        let id = parse_id(&request_id, "request id")?;
        let outcome = self
            .provider
            .wait_for_result(&ledger.ledger, &id, Duration::from_millis(timeout_ms))
            .await?;
        Ok(outcome.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_a_fixed_provider_and_bad_seeds_are_refused() {
        let provider = ServiceProvider::from_seed(vec![0x41; 64], Network::Regtest).unwrap();
        let again = ServiceProvider::from_seed(vec![0x41; 64], Network::Regtest).unwrap();
        assert_eq!(provider.address(), again.address());
        assert!(provider.address().starts_with("bcrt1q"));
        assert_eq!(provider.rsa_fingerprint(), again.rsa_fingerprint());
        assert_eq!(provider.rsa_fingerprint().len(), 64);
        assert!(!format!("{provider:?}").contains("41414141"));
        let err = ServiceProvider::from_seed(vec![0x41; 32], Network::Regtest).unwrap_err();
        assert_eq!(err.code(), "grants.invalid_seed");
    }

    #[test]
    fn request_specs_parse_through_core_terms() {
        let ubi = shipped_program_hash(ShippedProgram::UbiScore).unwrap();
        assert_eq!(ubi.len(), 64);
        assert_ne!(ubi, shipped_program_hash(ShippedProgram::Mileage).unwrap());
        let spec = DataRequestSpec {
            owner_address: "bcrt1qowner".into(),
            formats: vec!["trip-gps".into()],
            from_date: "2024-05-01".into(),
            to_date: "2024-05-03".into(),
            privileges: vec![Privilege::NonLocation, Privilege::LocationHistory],
            computation: Some(ubi.clone()),
            compute_period: None,
            purpose: "a quote".into(),
            price: 7,
            expires_at_ms: Some(99),
        };
        let core = spec.to_core().unwrap();
        assert_eq!(
            core.terms.to_fields(),
            vec![
                "location_history".to_owned(),
                "non_location".to_owned(),
                format!("compute:{ubi}"),
            ]
        );
        assert_eq!((core.price, core.expires_at), (7, Some(99)));
        let monthly = DataRequestSpec {
            compute_period: Some("month".into()),
            ..spec.clone()
        };
        assert_eq!(
            monthly.to_core().unwrap().terms.to_fields().last().unwrap(),
            "period:month"
        );
        for bad in [
            DataRequestSpec {
                compute_period: Some("fortnight".into()),
                ..spec.clone()
            },
            DataRequestSpec {
                compute_period: Some("month".into()),
                computation: None,
                ..spec.clone()
            },
        ] {
            assert_eq!(bad.to_core().unwrap_err().code(), "standing.invalid_period");
        }
        let bad_hash = DataRequestSpec {
            computation: Some("12".into()),
            ..spec.clone()
        };
        assert_eq!(bad_hash.to_core().unwrap_err().code(), "grants.invalid_id");
        let backwards = DataRequestSpec {
            from_date: "2024-05-09".into(),
            ..spec.clone()
        };
        assert_eq!(
            backwards.to_core().unwrap_err().code(),
            "grants.invalid_terms"
        );
        let nothing = DataRequestSpec {
            privileges: vec![],
            computation: None,
            ..spec
        };
        assert!(matches!(
            nothing.to_core().unwrap_err(),
            CarChainError::InvalidInput { .. }
        ));
    }
}
