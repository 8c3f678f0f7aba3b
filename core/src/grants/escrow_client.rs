//! Escrow calls of a paid trade's two parties (the seed's phase 2), each one ledger
//! transaction: the buyer opens an escrow, the seller declares what it delivered, the
//! buyer accepts or disputes; a disputed seller answers the possession challenge with
//! a [`PossessionProof`] built from the data it still holds; after the windows pass, an
//! undelivered or unanswered escrow is refunded to the buyer and an undisputed
//! delivery is released to the seller.
//!
//! Every call reads the escrow with a state proof first and checks, against the ledger
//! clock (the latest verified header's time, which is the clock the next block runs
//! at), that the step is allowed now, so a party learns why a step cannot be taken
//! before paying a fee for a refused transaction. The ledger enforces the same rules
//! (see the node's escrow rules); these checks only predict them.
//!
//! The chunks of a delivery are what [`super::escrow_payment`] defines for a data request (a
//! copy: each record's dHash; a result: the inputs' dHashes and the result's hash), or
//! any list of chunk hashes both parties agree on for another trade.

use core::fmt;

use bitcoin::secp256k1::SecretKey;

use super::error::GrantsError;
use super::escrow_payment::delivery_commitment;
use super::ledger::GrantsLedger;
use crate::keys::{Network, SigningKey};
use crate::protocol::signing::p2wpkh_address;
use crate::protocol::{
    EscrowDeliver, EscrowOpen, EscrowRef, EscrowResolve, EscrowState, EscrowStatus,
    PossessionProof, TxBody,
};

/// Why an escrow call was not made or failed. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    /// No such escrow on the ledger.
    #[error("escrow {0} is not on the ledger")]
    UnknownEscrow(String),
    /// The escrow id is taken.
    #[error("escrow {0} already exists")]
    DuplicateEscrow(String),
    /// Bad input (zero amount, trading with oneself, no chunks).
    #[error("invalid escrow call: {0}")]
    Invalid(String),
    /// This party is not the escrow's buyer or seller as the step needs.
    #[error("only the escrow's {role} can {step}")]
    NotParty {
        /// The role the step needs.
        role: &'static str,
        /// The step.
        step: &'static str,
    },
    /// The escrow is not in a state where the step applies.
    #[error("escrow is {status}: {reason}")]
    WrongStatus {
        /// Its status, lower case.
        status: String,
        /// Which states the step needs.
        reason: &'static str,
    },
    /// A window has not passed yet.
    #[error("{what} is open until {until} (ledger time {now})")]
    TooEarly {
        /// The window.
        what: &'static str,
        /// When it closes (unix ms).
        until: u64,
        /// The ledger clock (unix ms).
        now: u64,
    },
    /// A window has closed.
    #[error("{what} closed at {deadline} (ledger time {now})")]
    TooLate {
        /// The window.
        what: &'static str,
        /// When it closed (unix ms).
        deadline: u64,
        /// The ledger clock (unix ms).
        now: u64,
    },
    /// The committed delivery is not the one the buyer received.
    #[error("the escrow commits another delivery than the one received")]
    CommitmentMismatch,
    /// The chunks held do not answer the challenge for the committed delivery.
    #[error("the data held does not answer the possession challenge: {0}")]
    PossessionNotProven(String),
    /// Reading the ledger or submitting failed (a refusal by the ledger included).
    #[error(transparent)]
    Grants(#[from] GrantsError),
}

crate::error_code::error_codes!(EscrowError {
    UnknownEscrow => "escrow.unknown_escrow",
    DuplicateEscrow => "escrow.duplicate_escrow",
    Invalid => "escrow.invalid",
    NotParty => "escrow.not_party",
    WrongStatus => "escrow.wrong_status",
    TooEarly => "escrow.too_early",
    TooLate => "escrow.too_late",
    CommitmentMismatch => "escrow.commitment_mismatch",
    PossessionNotProven => "escrow.possession_not_proven",
    Grants => inner,
});

/// Result of escrow calls.
pub type EscrowResult<T> = Result<T, EscrowError>;

fn status_name(status: EscrowStatus) -> String {
    format!("{status:?}").to_lowercase()
}

fn wrong_status(escrow: &EscrowState, reason: &'static str) -> EscrowError {
    EscrowError::WrongStatus {
        status: status_name(escrow.status),
        reason,
    }
}

/// The answer to `escrow`'s possession challenge from the chunk hashes the seller
/// holds: built for the seed the dispute fixed and checked against the committed root
/// before anything is submitted ([`EscrowError::PossessionNotProven`] when the data
/// held is not the data committed).
pub fn challenge_answer(escrow: &EscrowState, held: &[[u8; 32]]) -> EscrowResult<PossessionProof> {
    let (Some(root), Some(seed)) = (escrow.d_hash_root, escrow.challenge_seed) else {
        return Err(wrong_status(
            escrow,
            "only a disputed delivery is challenged",
        ));
    };
    let proof = PossessionProof::build(held, &seed)
        .ok_or_else(|| EscrowError::PossessionNotProven("no chunks held".into()))?;
    proof
        .verify(&root, &seed)
        .map_err(|e| EscrowError::PossessionNotProven(e.to_string()))?;
    Ok(proof)
}

/// What a party may do with `escrow` at ledger time `now`, as the ledger's rules allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscrowStep {
    /// The seller declares its delivery (open, before `deliver_by`).
    Declare,
    /// The buyer accepts (delivered or disputed).
    Accept,
    /// The buyer disputes (delivered, within the review window).
    Dispute,
    /// The seller answers the challenge (disputed, before its deadline).
    AnswerChallenge,
    /// The buyer takes the funds back (undelivered after `deliver_by`, or disputed and
    /// unanswered after the challenge deadline).
    Refund,
    /// The seller takes the funds (delivered, undisputed after the review window).
    Release,
}

/// The review window of a delivery: the node's rule (3 days).
pub const REVIEW_WINDOW_MS: u64 = 3 * 24 * 3600 * 1000;

/// The steps open on `escrow` at ledger time `now`, for either party.
pub fn open_steps(escrow: &EscrowState, now: u64) -> Vec<EscrowStep> {
    let review_until = escrow
        .delivered_at
        .unwrap_or(0)
        .saturating_add(REVIEW_WINDOW_MS);
    let challenge_until = escrow.challenge_deadline.unwrap_or(0);
    match escrow.status {
        EscrowStatus::Open if now < escrow.deliver_by => vec![EscrowStep::Declare],
        EscrowStatus::Open => vec![EscrowStep::Refund],
        EscrowStatus::Delivered if now < review_until => {
            vec![EscrowStep::Accept, EscrowStep::Dispute]
        }
        EscrowStatus::Delivered => vec![EscrowStep::Accept, EscrowStep::Release],
        EscrowStatus::Disputed if now < challenge_until => {
            vec![EscrowStep::Accept, EscrowStep::AnswerChallenge]
        }
        EscrowStatus::Disputed => vec![EscrowStep::Accept, EscrowStep::Refund],
        EscrowStatus::Released | EscrowStatus::Refunded => Vec::new(),
    }
}

/// One party of escrowed trades (buyer or seller), signing with its account key.
/// Secret: `Debug` shows only the address; the key is erased on drop.
pub struct EscrowParty {
    signing: SigningKey,
    network: Network,
}

impl fmt::Debug for EscrowParty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::keys::fmt_account_holder(f, "EscrowParty", &self.address())
    }
}

impl EscrowParty {
    /// The party holding `account` on `network`.
    pub fn new(account: SecretKey, network: Network) -> Self {
        EscrowParty {
            signing: SigningKey::from_secret_key(account),
            network,
        }
    }

    /// The party's account address.
    pub fn address(&self) -> String {
        p2wpkh_address(&self.signing.public_key().0, self.network)
    }

    /// The proven escrow `escrow_id` and the ledger clock it is judged at.
    pub async fn escrow(
        &self,
        ledger: &GrantsLedger,
        escrow_id: &[u8; 32],
    ) -> EscrowResult<(EscrowState, u64)> {
        let escrow = ledger
            .escrow(escrow_id)
            .await?
            .ok_or_else(|| EscrowError::UnknownEscrow(hex::encode(escrow_id)))?;
        let now = ledger_clock(ledger)?;
        Ok((escrow, now))
    }

    async fn party_escrow(
        &self,
        ledger: &GrantsLedger,
        escrow_id: &[u8; 32],
        role: Role,
        step: EscrowStep,
    ) -> EscrowResult<EscrowState> {
        let (escrow, now) = self.escrow(ledger, escrow_id).await?;
        let party = match role {
            Role::Buyer => &escrow.buyer,
            Role::Seller => &escrow.seller,
        };
        if *party != self.address() {
            return Err(EscrowError::NotParty {
                role: role.name(),
                step: step_name(step),
            });
        }
        if !open_steps(&escrow, now).contains(&step) {
            return Err(why_not(&escrow, step, now));
        }
        Ok(escrow)
    }

    async fn submit(
        &self,
        ledger: &GrantsLedger,
        escrow_id: &[u8; 32],
        body: TxBody,
    ) -> EscrowResult<EscrowState> {
        ledger.submit(self.signing.secret_key(), body).await?;
        Ok(self.escrow(ledger, escrow_id).await?.0)
    }

    /// Buyer: locks `amount` for `seller` in a new escrow `escrow_id`, optionally paying
    /// for a data request. Returns the escrow as opened.
    pub async fn open(
        &self,
        ledger: &GrantsLedger,
        escrow_id: [u8; 32],
        seller: &str,
        amount: u64,
        request_id: Option<[u8; 32]>,
    ) -> EscrowResult<EscrowState> {
        if amount == 0 {
            return Err(EscrowError::Invalid(
                "an escrow locks a positive amount".into(),
            ));
        }
        if seller == self.address() {
            return Err(EscrowError::Invalid(
                "the seller cannot be the buyer".into(),
            ));
        }
        if ledger.escrow(&escrow_id).await?.is_some() {
            return Err(EscrowError::DuplicateEscrow(hex::encode(escrow_id)));
        }
        let body = TxBody::EscrowOpen(EscrowOpen {
            escrow_id,
            seller: seller.to_owned(),
            amount,
            request_id,
        });
        self.submit(ledger, &escrow_id, body).await
    }

    /// Seller: declares the delivery of `chunks` (commits [`delivery_commitment`]).
    pub async fn declare(
        &self,
        ledger: &GrantsLedger,
        escrow_id: &[u8; 32],
        chunks: &[[u8; 32]],
    ) -> EscrowResult<EscrowState> {
        if chunks.is_empty() {
            return Err(EscrowError::Invalid("a delivery has chunks".into()));
        }
        self.party_escrow(ledger, escrow_id, Role::Seller, EscrowStep::Declare)
            .await?;
        let body = TxBody::EscrowDeliver(EscrowDeliver {
            escrow_id: *escrow_id,
            d_hash_root: delivery_commitment(chunks),
        });
        self.submit(ledger, escrow_id, body).await
    }

    /// Buyer: accepts the delivery after checking that the escrow commits exactly the
    /// chunks `received` ([`EscrowError::CommitmentMismatch`] otherwise); the funds go
    /// to the seller.
    pub async fn accept(
        &self,
        ledger: &GrantsLedger,
        escrow_id: &[u8; 32],
        received: &[[u8; 32]],
    ) -> EscrowResult<EscrowState> {
        let escrow = self
            .party_escrow(ledger, escrow_id, Role::Buyer, EscrowStep::Accept)
            .await?;
        if escrow.d_hash_root != Some(delivery_commitment(received)) {
            return Err(EscrowError::CommitmentMismatch);
        }
        let body = TxBody::EscrowAccept(EscrowRef {
            escrow_id: *escrow_id,
        });
        self.submit(ledger, escrow_id, body).await
    }

    /// Buyer: denies receipt. The ledger fixes the challenge seed from the block before
    /// and gives the seller until the returned `challenge_deadline` to answer.
    pub async fn dispute(
        &self,
        ledger: &GrantsLedger,
        escrow_id: &[u8; 32],
    ) -> EscrowResult<EscrowState> {
        self.party_escrow(ledger, escrow_id, Role::Buyer, EscrowStep::Dispute)
            .await?;
        let body = TxBody::EscrowDispute(EscrowRef {
            escrow_id: *escrow_id,
        });
        self.submit(ledger, escrow_id, body).await
    }

    /// Seller: answers the possession challenge with the chunk hashes it holds (see
    /// [`challenge_answer`]); the funds go to the seller. Data that does not match the
    /// commitment is refused here, before a fee is spent.
    pub async fn answer_challenge(
        &self,
        ledger: &GrantsLedger,
        escrow_id: &[u8; 32],
        held: &[[u8; 32]],
    ) -> EscrowResult<EscrowState> {
        let escrow = self
            .party_escrow(ledger, escrow_id, Role::Seller, EscrowStep::AnswerChallenge)
            .await?;
        let proof = challenge_answer(&escrow, held)?;
        let body = TxBody::EscrowResolve(EscrowResolve {
            escrow_id: *escrow_id,
            seller_proved: true,
            proof: Some(proof),
        });
        self.submit(ledger, escrow_id, body).await
    }

    /// Buyer: takes the funds back from an escrow never delivered by its deadline
    /// (`EscrowRefund`), or disputed and left unanswered past the challenge deadline
    /// (`EscrowResolve` without proof).
    pub async fn refund(
        &self,
        ledger: &GrantsLedger,
        escrow_id: &[u8; 32],
    ) -> EscrowResult<EscrowState> {
        let escrow = self
            .party_escrow(ledger, escrow_id, Role::Buyer, EscrowStep::Refund)
            .await?;
        let reference = EscrowRef {
            escrow_id: *escrow_id,
        };
        let body = match escrow.status {
            EscrowStatus::Open => TxBody::EscrowRefund(reference),
            _ => TxBody::EscrowResolve(EscrowResolve {
                escrow_id: *escrow_id,
                seller_proved: false,
                proof: None,
            }),
        };
        self.submit(ledger, escrow_id, body).await
    }

    /// Seller: takes the funds of a delivery the buyer neither accepted nor disputed
    /// within the review window.
    pub async fn release(
        &self,
        ledger: &GrantsLedger,
        escrow_id: &[u8; 32],
    ) -> EscrowResult<EscrowState> {
        self.party_escrow(ledger, escrow_id, Role::Seller, EscrowStep::Release)
            .await?;
        let body = TxBody::EscrowResolve(EscrowResolve {
            escrow_id: *escrow_id,
            seller_proved: true,
            proof: None,
        });
        self.submit(ledger, escrow_id, body).await
    }
}

#[derive(Debug, Clone, Copy)]
enum Role {
    Buyer,
    Seller,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Buyer => "buyer",
            Role::Seller => "seller",
        }
    }
}

fn step_name(step: EscrowStep) -> &'static str {
    match step {
        EscrowStep::Declare => "declare a delivery",
        EscrowStep::Accept => "accept a delivery",
        EscrowStep::Dispute => "dispute a delivery",
        EscrowStep::AnswerChallenge => "answer the challenge",
        EscrowStep::Refund => "take a refund",
        EscrowStep::Release => "release an undisputed delivery",
    }
}

/// The ledger clock: the time of the latest verified header (the clock the next block
/// executes at).
fn ledger_clock(ledger: &GrantsLedger) -> EscrowResult<u64> {
    let tip = ledger
        .light()
        .verified_tip()
        .map_err(GrantsError::from)?
        .ok_or_else(|| EscrowError::Invalid("no verified header yet".into()))?;
    Ok(tip.header.time)
}

/// Why `step` is not open on `escrow` at `now` (a window or a status).
fn why_not(escrow: &EscrowState, step: EscrowStep, now: u64) -> EscrowError {
    let review_until = escrow
        .delivered_at
        .unwrap_or(0)
        .saturating_add(REVIEW_WINDOW_MS);
    let challenge_until = escrow.challenge_deadline.unwrap_or(0);
    let early = |what, until| EscrowError::TooEarly { what, until, now };
    let late = |what, deadline| EscrowError::TooLate {
        what,
        deadline,
        now,
    };
    match (step, escrow.status) {
        (EscrowStep::Declare, EscrowStatus::Open) => late("delivery window", escrow.deliver_by),
        (EscrowStep::Refund, EscrowStatus::Open) => early("delivery window", escrow.deliver_by),
        (EscrowStep::Dispute, EscrowStatus::Delivered) => late("review window", review_until),
        (EscrowStep::Release, EscrowStatus::Delivered) => early("review window", review_until),
        (EscrowStep::AnswerChallenge, EscrowStatus::Disputed) => {
            late("possession challenge", challenge_until)
        }
        (EscrowStep::Refund, EscrowStatus::Disputed) => {
            early("possession challenge", challenge_until)
        }
        (EscrowStep::Declare, _) => wrong_status(escrow, "only an open escrow is delivered"),
        (EscrowStep::Accept, _) => wrong_status(escrow, "only a delivery is accepted"),
        (EscrowStep::Dispute, _) => wrong_status(escrow, "only a delivery is disputed"),
        (EscrowStep::AnswerChallenge, _) => {
            wrong_status(escrow, "only a disputed delivery is challenged")
        }
        (EscrowStep::Refund, _) => wrong_status(
            escrow,
            "only an undelivered or an unanswered disputed escrow is refunded",
        ),
        (EscrowStep::Release, _) => wrong_status(escrow, "only an undisputed delivery is released"),
    }
}

#[cfg(test)]
mod tests;
