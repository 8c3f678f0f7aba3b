//! The values of data grants as they cross the FFI: what a provider asks (a pending
//! request with its provider's registration), how the owner narrows it, what an
//! approval delivered, the grants made, escrows and their states. Ids and hashes cross
//! as lowercase hex; times as unix milliseconds.

use carchain_core::compute::ProgramOutput;
use carchain_core::grants::terms::Delivery;
use carchain_core::grants::{Narrowing as CoreNarrowing, Privilege as CorePrivilege, RequestTerms};
use carchain_core::protocol::hashing::sha256;
use carchain_core::protocol::{
    EscrowState, EscrowStatus as CoreEscrowStatus, GrantKind as CoreGrantKind, GrantState,
    GrantStatus as CoreGrantStatus, ProviderState,
};
use carchain_core::trip::PrivacyZone as CorePrivacyZone;
use carchain_core::wallet::{
    Approval as CoreApproval, GrantInfo as CoreGrantInfo, PendingRequest as CorePending,
};

use crate::error::CarChainError;
use crate::inputs::parse_date;

/// Parses a 32-byte id or hash written as 64 hex digits; `what` names it in the message.
pub(crate) fn parse_id(text: &str, what: &str) -> Result<[u8; 32], CarChainError> {
    let mut id = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut id).map_err(|_| {
        CarChainError::new(
            "grants.invalid_id",
            format!("the {what} `{text}` is not 64 hex digits"),
        )
    })?;
    Ok(id)
}

/// A kind of data a provider may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Privilege {
    /// Exact positions over time.
    LocationHistory,
    /// Positions rounded to about 1 km.
    ApproximateLocation,
    /// Figures without positions: times, speeds, distances.
    NonLocation,
    /// The car's identity record.
    Vin,
}

impl From<Privilege> for CorePrivilege {
    fn from(privilege: Privilege) -> Self {
        match privilege {
            Privilege::LocationHistory => CorePrivilege::LocationHistory,
            Privilege::ApproximateLocation => CorePrivilege::ApproximateLocation,
            Privilege::NonLocation => CorePrivilege::NonLocation,
            Privilege::Vin => CorePrivilege::Vin,
        }
    }
}

impl From<CorePrivilege> for Privilege {
    fn from(privilege: CorePrivilege) -> Self {
        match privilege {
            CorePrivilege::LocationHistory => Privilege::LocationHistory,
            CorePrivilege::ApproximateLocation => Privilege::ApproximateLocation,
            CorePrivilege::NonLocation => Privilege::NonLocation,
            CorePrivilege::Vin => Privilege::Vin,
        }
    }
}

/// A place whose surroundings are kept out of what a grant delivers.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PrivacyZone {
    /// Centre latitude, degrees.
    pub lat: f64,
    /// Centre longitude, degrees.
    pub lng: f64,
    /// Radius, metres.
    pub radius_m: f64,
}

/// How the owner narrows a request on approval. Every field defaults to narrowing
/// nothing (`Narrowing()` in Kotlin and Swift approves the request as asked).
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct Narrowing {
    /// First day delivered (`YYYY-MM-DD`, inside the request's period); give both days
    /// or neither.
    #[uniffi(default)]
    pub from_date: Option<String>,
    /// Last day delivered (`YYYY-MM-DD`).
    #[uniffi(default)]
    pub to_date: Option<String>,
    /// A subset of the requested privileges; `null`/`nil` keeps them all.
    #[uniffi(default)]
    pub privileges: Option<Vec<Privilege>>,
    /// Places cut from the ends of every trip before a computation; a copy leaves out
    /// the trips that enter any of them.
    #[uniffi(default)]
    pub privacy_zones: Vec<PrivacyZone>,
    /// Round positions to about 1 km before a computation (not possible for a copy).
    #[uniffi(default)]
    pub approximate: bool,
    /// When the grant ends (ledger time, unix ms); `null`/`nil`: until it is revoked or
    /// renounced or the car changes owner.
    #[uniffi(default)]
    pub expires_at_ms: Option<u64>,
}

impl Narrowing {
    /// The core narrowing; bad dates or zones are typed errors.
    pub(crate) fn to_core(&self) -> Result<CoreNarrowing, CarChainError> {
        let days = match (&self.from_date, &self.to_date) {
            (None, None) => None,
            (Some(from), Some(to)) => Some((parse_date(from)?, parse_date(to)?)),
            _ => {
                return Err(CarChainError::new(
                    "grants.invalid_narrowing",
                    "give both the first and the last day, or neither",
                ));
            }
        };
        let privacy_zones = self
            .privacy_zones
            .iter()
            .map(|zone| {
                CorePrivacyZone::new(zone.lat, zone.lng, zone.radius_m).map_err(|error| {
                    CarChainError::InvalidNarrowing {
                        code: error.code().to_owned(),
                        detail: error.to_string(),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CoreNarrowing {
            days,
            fields: self
                .privileges
                .as_ref()
                .map(|list| list.iter().map(|p| CorePrivilege::from(*p)).collect()),
            privacy_zones,
            approximate: self.approximate,
            expires_at: self.expires_at_ms,
        })
    }
}

/// A registered service provider, as the ledger proves it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProviderInfo {
    /// Its account address.
    pub address: String,
    /// Its registered name.
    pub name: String,
    /// Its registered description.
    pub description: String,
    /// Hex SHA-256 of the RSA public key DER it registered (PKCS#1 for CarChain
    /// providers: equal to their `rsa_fingerprint`).
    pub rsa_fingerprint: String,
    /// Hex hashes of the computations it registered.
    pub code_hashes: Vec<String>,
    /// Whether it is a registered auditor.
    pub auditor: bool,
}

impl From<&ProviderState> for ProviderInfo {
    fn from(provider: &ProviderState) -> Self {
        ProviderInfo {
            address: provider.address.clone(),
            name: provider.name.clone(),
            description: provider.description.clone(),
            rsa_fingerprint: hex::encode(sha256(&[&provider.rsa_public_der])),
            code_hashes: provider.code_hashes.iter().map(hex::encode).collect(),
            auditor: provider.auditor,
        }
    }
}

/// Where an escrow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EscrowStatus {
    /// Funds locked, nothing delivered.
    Open,
    /// The owner declared the delivery.
    Delivered,
    /// The buyer disputes the delivery.
    Disputed,
    /// Funds paid to the owner.
    Released,
    /// Funds returned to the buyer.
    Refunded,
}

impl From<CoreEscrowStatus> for EscrowStatus {
    fn from(status: CoreEscrowStatus) -> Self {
        match status {
            CoreEscrowStatus::Open => EscrowStatus::Open,
            CoreEscrowStatus::Delivered => EscrowStatus::Delivered,
            CoreEscrowStatus::Disputed => EscrowStatus::Disputed,
            CoreEscrowStatus::Released => EscrowStatus::Released,
            CoreEscrowStatus::Refunded => EscrowStatus::Refunded,
        }
    }
}

/// An escrow on the ledger (the funds paying for a priced request).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EscrowInfo {
    /// The escrow id, hex.
    pub escrow_id: String,
    /// The paying account (the provider).
    pub buyer: String,
    /// The account paid (the owner).
    pub seller: String,
    /// The amount locked.
    pub amount: u64,
    /// The request it pays for, hex, if any.
    pub request_id: Option<String>,
    /// The delivery's chunk commitment, hex, once the owner declared it.
    pub d_hash_root: Option<String>,
    /// Where it stands.
    pub status: EscrowStatus,
    /// Ledger time (unix ms) by which the owner must deliver.
    pub deliver_by_ms: u64,
    /// Ledger time (unix ms) of the declared delivery, if any.
    pub delivered_at_ms: Option<u64>,
    /// Block height it was opened at.
    pub height: u64,
}

impl From<&EscrowState> for EscrowInfo {
    fn from(escrow: &EscrowState) -> Self {
        EscrowInfo {
            escrow_id: hex::encode(escrow.escrow_id),
            buyer: escrow.buyer.clone(),
            seller: escrow.seller.clone(),
            amount: escrow.amount,
            request_id: escrow.request_id.map(hex::encode),
            d_hash_root: escrow.d_hash_root.map(hex::encode),
            status: escrow.status.into(),
            deliver_by_ms: escrow.deliver_by,
            delivered_at_ms: escrow.delivered_at,
            height: escrow.height,
        }
    }
}

/// A request waiting for the owner, with everything needed to decide.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingRequest {
    /// The request id, hex (what `approve` and `reject` take).
    pub request_id: String,
    /// Who asks: the provider's proven registration.
    pub provider: ProviderInfo,
    /// Record formats asked for (`trip-gps`, `VIN_CODE`, ...).
    pub formats: Vec<String>,
    /// First day asked for, `YYYY-MM-DD`.
    pub from_date: String,
    /// Last day asked for, `YYYY-MM-DD`.
    pub to_date: String,
    /// The kinds of data asked for.
    pub privileges: Vec<Privilege>,
    /// The hex code hash of the computation asked for; `null`/`nil` for a copy of the
    /// records.
    pub computation: Option<String>,
    /// Why, in the provider's words.
    pub purpose: String,
    /// The price offered (0 for a free request).
    pub price: u64,
    /// When the request expires (unix ms), if it does.
    pub expires_at_ms: Option<u64>,
    /// The escrow holding the price, if the provider opened one.
    pub escrow: Option<EscrowInfo>,
    /// Block height of the request.
    pub height: u64,
}

/// The hex code hash of `terms`' computation, if it asks for one.
fn computation_of(terms: &RequestTerms) -> Option<String> {
    match terms.delivery {
        Delivery::Copy => None,
        Delivery::Compute { code_hash } => Some(hex::encode(code_hash)),
    }
}

impl From<&CorePending> for PendingRequest {
    fn from(pending: &CorePending) -> Self {
        let request = &pending.request;
        PendingRequest {
            request_id: hex::encode(request.request_id),
            provider: ProviderInfo::from(&pending.provider),
            formats: pending.terms.formats.clone(),
            from_date: request.from_date.clone(),
            to_date: request.to_date.clone(),
            privileges: pending
                .terms
                .privileges
                .iter()
                .map(|p| Privilege::from(*p))
                .collect(),
            computation: computation_of(&pending.terms),
            purpose: request.purpose.clone(),
            price: request.price,
            expires_at_ms: request.expires_at,
            escrow: pending.escrow.as_ref().map(EscrowInfo::from),
            height: request.height,
        }
    }
}

/// The escrow an approval declared its delivery on.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeclaredPayment {
    /// The escrow id, hex.
    pub escrow_id: String,
    /// What it pays the owner once the provider accepts the delivery.
    pub amount: u64,
    /// The chunk commitment of what was delivered, hex.
    pub d_hash_root: String,
}

/// What an approval delivered.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApprovalInfo {
    /// The ledger grant, hex (what `revoke` takes).
    pub grant_id: String,
    /// How many records were copied, or read by the computation.
    pub record_count: u64,
    /// First day delivered, `YYYY-MM-DD`.
    pub from_date: String,
    /// Last day delivered, `YYYY-MM-DD`.
    pub to_date: String,
    /// Privileges granted.
    pub privileges: Vec<Privilege>,
    /// Record formats delivered.
    pub formats: Vec<String>,
    /// Privacy zones applied.
    pub privacy_zone_count: u32,
    /// Decimals positions were rounded to before a computation, if any.
    pub approximate_decimals: Option<u32>,
    /// For a priced request: the escrow the delivery was declared on.
    pub payment: Option<DeclaredPayment>,
}

impl From<&CoreApproval> for ApprovalInfo {
    fn from(approval: &CoreApproval) -> Self {
        let scope = &approval.scope;
        ApprovalInfo {
            grant_id: hex::encode(approval.grant_id),
            record_count: approval.records.len() as u64,
            from_date: scope.from.format("%Y-%m-%d").to_string(),
            to_date: scope.to.format("%Y-%m-%d").to_string(),
            privileges: scope
                .privileges
                .iter()
                .map(|p| Privilege::from(*p))
                .collect(),
            formats: scope.formats.clone(),
            privacy_zone_count: u32::try_from(scope.privacy_zones.len()).unwrap_or(u32::MAX),
            approximate_decimals: scope.approximate_decimals,
            payment: approval.payment.as_ref().map(|p| DeclaredPayment {
                escrow_id: hex::encode(p.escrow_id),
                amount: p.amount,
                d_hash_root: hex::encode(p.d_hash_root),
            }),
        }
    }
}

/// What a grant gives its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GrantKind {
    /// A copy of the records (their keys re-wrapped for the provider).
    Copy,
    /// Only a computation's owner-signed result.
    Compute,
    /// A paid trade settled through escrow.
    Trade,
}

/// Whether a grant is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GrantStatus {
    /// In force.
    Active,
    /// Withdrawn by the owner.
    Revoked,
    /// Given up by the provider.
    Renounced,
    /// Ended by the car changing owner.
    Ended,
}

impl From<CoreGrantStatus> for GrantStatus {
    fn from(status: CoreGrantStatus) -> Self {
        match status {
            CoreGrantStatus::Active => GrantStatus::Active,
            CoreGrantStatus::Revoked => GrantStatus::Revoked,
            CoreGrantStatus::Renounced => GrantStatus::Renounced,
            CoreGrantStatus::Ended => GrantStatus::Ended,
        }
    }
}

/// A grant this wallet made, as the wallet remembers it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GrantInfo {
    /// The grant id, hex.
    pub grant_id: String,
    /// The request it answered, hex.
    pub request_id: String,
    /// The provider's address.
    pub provider: String,
    /// The provider's registered name.
    pub provider_name: String,
    /// Copy or computation.
    pub kind: GrantKind,
    /// How many records it names.
    pub record_count: u64,
    /// `Active` until revoked (`Revoked`).
    pub status: GrantStatus,
}

impl TryFrom<CoreGrantInfo> for GrantInfo {
    type Error = CarChainError;

    fn try_from(info: CoreGrantInfo) -> Result<Self, CarChainError> {
        let unknown = |what: &str, value: &str| {
            CarChainError::new(
                "grants.unknown_grant_state",
                format!("the wallet stored an unknown grant {what} `{value}`"),
            )
        };
        let kind = match info.kind.as_str() {
            "copy" => GrantKind::Copy,
            "compute" => GrantKind::Compute,
            other => return Err(unknown("kind", other)),
        };
        let status = match info.status.as_str() {
            "active" => GrantStatus::Active,
            "revoked" => GrantStatus::Revoked,
            other => return Err(unknown("status", other)),
        };
        Ok(GrantInfo {
            grant_id: info.grant_id,
            request_id: info.request_id,
            provider: info.provider,
            provider_name: info.provider_name,
            kind,
            record_count: info.records as u64,
            status,
        })
    }
}

/// A grant as the ledger proves it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LedgerGrant {
    /// The grant id, hex.
    pub grant_id: String,
    /// The granting owner's address.
    pub grantor: String,
    /// The provider's address.
    pub grantee: String,
    /// Copy, computation or trade.
    pub kind: GrantKind,
    /// How many records it hands over as a copy (the ledger's copy tags; a
    /// computation's inputs are behind the grant's commitment and not counted: 0).
    pub record_count: u64,
    /// Expiry (unix ms), if any.
    pub expires_at_ms: Option<u64>,
    /// Whether it is in force.
    pub status: GrantStatus,
    /// Block height of the grant.
    pub height: u64,
}

impl From<&GrantState> for LedgerGrant {
    fn from(grant: &GrantState) -> Self {
        LedgerGrant {
            grant_id: hex::encode(grant.grant_id),
            grantor: grant.grantor.clone(),
            grantee: grant.grantee_address.clone(),
            kind: match grant.kind {
                CoreGrantKind::Copy { .. } => GrantKind::Copy,
                CoreGrantKind::Usage { .. } => GrantKind::Compute,
                CoreGrantKind::Trade => GrantKind::Trade,
            },
            record_count: grant.copy_tags.len() as u64,
            expires_at_ms: grant.expires_at,
            status: grant.status.into(),
            height: grant.height,
        }
    }
}

/// A shipped computation's decoded output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ComputationOutput {
    /// The usage-based-insurance score and its components.
    UbiScore {
        /// 0..=1000, higher is safer.
        score: u64,
        /// Total distance, metres.
        distance_m: u64,
        /// Total duration, seconds.
        duration_s: u64,
        /// Night seconds (22:00-05:00 UTC).
        night_s: u64,
        /// Seconds over the speed limit.
        speeding_s: u64,
        /// Harsh speed changes.
        harsh_events: u64,
    },
    /// The mileage total.
    Mileage {
        /// Sum of the trips' distances, metres.
        total_m: u64,
        /// Number of trips.
        trips: u64,
    },
}

impl From<&ProgramOutput> for ComputationOutput {
    fn from(output: &ProgramOutput) -> Self {
        match output {
            ProgramOutput::UbiScore(ubi) => ComputationOutput::UbiScore {
                score: ubi.score,
                distance_m: ubi.distance_m,
                duration_s: ubi.duration_s,
                night_s: ubi.night_s,
                speeding_s: ubi.speeding_s,
                harsh_events: ubi.harsh_events,
            },
            ProgramOutput::Mileage(total) => ComputationOutput::Mileage {
                total_m: total.total_m,
                trips: total.trips,
            },
        }
    }
}

#[cfg(test)]
mod tests;
