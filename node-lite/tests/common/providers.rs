//! Ledger steps the webhook tests share: a provider funded and registered on the ledger,
//! a usage grant to it, and the wall-clock time webhook requests are signed at.

use std::time::{SystemTime, UNIX_EPOCH};

use carchain_core::protocol::{Grant, GrantKind, ProviderRegister, SignedTransaction, TxBody};

use super::{BASE_FEE, Wallet, submit};

/// Seconds since the Unix epoch, as webhook registrations and requests are signed.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A usage grant from `owner` to `grantee` (records commitment 0x33.., code hash 0x44..).
pub fn usage_grant(
    owner: &Wallet,
    nonce: u64,
    grant_id: [u8; 32],
    grantee: &str,
) -> SignedTransaction {
    owner.sign(
        nonce,
        BASE_FEE,
        TxBody::Grant(Grant {
            grant_id,
            grantee_address: grantee.into(),
            records_commitment: [0x33; 32],
            copy_tags: Vec::new(),
            kind: GrantKind::Usage {
                code_hash: [0x44; 32],
            },
            expires_at: None,
        }),
    )
}

/// Registers `provider` on the ledger (nonce 0), funded by `owner` at `owner_nonce`.
pub async fn register_provider(base: &str, owner: &Wallet, owner_nonce: u64, provider: &Wallet) {
    let (status, body) = submit(
        base,
        &owner.transfer(owner_nonce, &provider.address, 1_000),
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let register = provider.sign(
        0,
        BASE_FEE,
        TxBody::ProviderRegister(ProviderRegister {
            name: "Insurer".into(),
            description: "pay as you drive".into(),
            rsa_public_der: vec![0x30, 0x82],
            code_hashes: vec![[0x44; 32]],
        }),
    );
    let (status, body) = submit(base, &register, true).await;
    assert_eq!(status, 200, "{body}");
}
