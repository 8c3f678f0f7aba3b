//! The rules and effects of each transaction kind: transfers, device pairing (setup,
//! setDup, reset), record registration and provider registration here, bonds and unbonds
//! through [`super::stake`]; the data-sharing
//! kinds (grants, requests, escrow, attestations) through [`super::data_kinds`].

use carchain_core::protocol::{
    AccountState, AddressIndex, DeviceState, DeviceStatus, ProviderState, RecordRegistration,
    SignedTransaction, TxBody, state_key,
};
use carchain_core::record::FormatSpec;

use super::data_kinds;
use super::error::TxError;
use super::grants;
use super::layer::{Layer, StateRead};
use super::lookup::credit;
use super::rules::ExecContext;
use super::stake;

/// Longest provider name, in bytes.
const MAX_PROVIDER_NAME: usize = 128;

fn device(state: &Layer<'_>, vid: &str) -> Result<DeviceState, TxError> {
    state
        .get(state_key::device(vid))?
        .ok_or_else(|| TxError::UnknownDevice { vid: vid.into() })
}

/// A format is accepted when built in (exact name) or a valid custom name that does not
/// impersonate a built-in one by case.
fn check_format(ctx: &ExecContext<'_>, format: &str) -> Result<(), TxError> {
    if ctx.formats.contains(format) {
        return Ok(());
    }
    let valid_custom =
        !FormatSpec::is_builtin_name(format) && FormatSpec::custom(format, ["KEY"]).is_ok();
    if valid_custom {
        Ok(())
    } else {
        Err(TxError::UnknownFormat {
            format: format.into(),
        })
    }
}

/// Read-only checks of the kind's rules against `state`.
/// `signer` is the signer's address (`signed.tx.signer_address()`).
pub fn validate(
    state: &Layer<'_>,
    ctx: &ExecContext<'_>,
    signed: &SignedTransaction,
    signer: &str,
) -> Result<(), TxError> {
    if data_kinds::handles(&signed.tx.body) {
        return data_kinds::validate(state, ctx, signed);
    }
    match &signed.tx.body {
        TxBody::Transfer(_) => Ok(()),
        body @ (TxBody::Bond(_) | TxBody::Unbond(_)) => stake::validate(state, ctx, body, signer),
        TxBody::DeviceSetup(setup) => {
            // check_stateless already proved signer == owner and the pairing signature.
            match state.get::<DeviceState>(state_key::device(&setup.vid))? {
                Some(existing) if existing.status == DeviceStatus::Active => {
                    Err(TxError::DeviceExists {
                        vid: setup.vid.clone(),
                    })
                }
                _ => Ok(()),
            }
        }
        TxBody::SetDup(dup) => {
            let current = device(state, &dup.vid)?;
            if current.owner_address != signer {
                return Err(TxError::NotOwner);
            }
            if current.status != DeviceStatus::Active {
                return Err(TxError::Invalid(format!("device {} is retired", dup.vid)));
            }
            if dup.generation <= current.generation {
                return Err(TxError::Invalid(format!(
                    "pool generation {} is not above the current {}",
                    dup.generation, current.generation
                )));
            }
            Ok(())
        }
        TxBody::Reset(reset) => {
            let current = device(state, &reset.vid)?;
            if current.owner_address != signer {
                return Err(TxError::NotOwner);
            }
            Ok(())
        }
        TxBody::RecordPut(put) => {
            // check_stateless already proved signer == address.
            check_format(ctx, &put.format)?;
            if put.key.is_empty() {
                return Err(TxError::Invalid("the record key is empty".into()));
            }
            if state
                .read(state_key::record(&put.address, &put.key))?
                .is_some()
            {
                return Err(TxError::DuplicateRecord {
                    address: put.address.clone(),
                });
            }
            Ok(())
        }
        TxBody::ProviderRegister(provider) => {
            if provider.name.is_empty() || provider.name.len() > MAX_PROVIDER_NAME {
                return Err(TxError::Invalid(format!(
                    "provider name must be 1..={MAX_PROVIDER_NAME} bytes"
                )));
            }
            if provider.rsa_public_der.is_empty() {
                return Err(TxError::Invalid("provider RSA public key is empty".into()));
            }
            Ok(())
        }
        other => Err(TxError::Invalid(format!(
            "{} has no rules here",
            other.kind_name()
        ))),
    }
}

/// Whether [`apply`] never refuses a transaction of this kind once [`validate`] passed
/// (it can then fail only on a storage error): a record put's registration and address
/// index. Admission skips writing such effects.
pub fn apply_cannot_refuse(body: &TxBody) -> bool {
    matches!(body, TxBody::RecordPut(_))
}

/// Writes the kind's effects (fee and nonce are already charged). `signer` is the
/// signer's address.
pub fn apply(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signed: &SignedTransaction,
    tx_id: &[u8; 32],
    signer: &str,
) -> Result<(), TxError> {
    if data_kinds::handles(&signed.tx.body) {
        return data_kinds::run(state, ctx, signed, tx_id);
    }
    match &signed.tx.body {
        body @ (TxBody::Bond(_) | TxBody::Unbond(_)) => stake::apply(state, ctx, body, signer)?,
        TxBody::Transfer(transfer) => {
            let key = state_key::account(&transfer.to);
            let mut to: AccountState = state.get(key)?.unwrap_or_default();
            to.balance = credit(to.balance, transfer.amount)?;
            state.put_value(key, &to);
        }
        TxBody::DeviceSetup(setup) => state.put_value(
            state_key::device(&setup.vid),
            &DeviceState {
                vid: setup.vid.clone(),
                owner_address: setup.owner_address.clone(),
                device_pubkey: setup.device_pubkey,
                pool_commitment: setup.pool_commitment,
                generation: 0,
                status: DeviceStatus::Active,
                agent: setup.agent.clone(),
                paired_height: ctx.height,
            },
        ),
        TxBody::SetDup(dup) => {
            let mut current = device(state, &dup.vid)?;
            current.generation = dup.generation;
            current.pool_commitment = dup.pool_commitment;
            state.put_value(state_key::device(&dup.vid), &current);
        }
        TxBody::Reset(reset) => {
            let current = device(state, &reset.vid)?;
            grants::end_on_transfer(state, &current.owner_address, &reset.new_owner_address)?;
            state.put_value(
                state_key::device(&reset.vid),
                &DeviceState {
                    vid: reset.vid.clone(),
                    owner_address: reset.new_owner_address.clone(),
                    device_pubkey: reset.new_device_pubkey.unwrap_or(current.device_pubkey),
                    pool_commitment: reset.new_pool_commitment,
                    generation: 0,
                    status: DeviceStatus::Active,
                    agent: reset.agent.clone(),
                    paired_height: ctx.height,
                },
            );
        }
        TxBody::RecordPut(put) => {
            state.put_value(
                state_key::record(&put.address, &put.key),
                &RecordRegistration {
                    put: put.clone(),
                    height: ctx.height,
                    tx_id: *tx_id,
                    signer: signed.tx.signer,
                },
            );
            // The address's index lets readers check a node served all its records.
            let index_key = state_key::address_index(&put.address);
            let index: AddressIndex = state.get(index_key)?.unwrap_or_default();
            state.put_value(index_key, &index.with_key(&put.key));
        }
        TxBody::ProviderRegister(provider) => {
            // Re-registering keeps an auditor flag an auditor gave (see auditors.rs).
            let key = state_key::provider(signer);
            let auditor = state
                .get::<ProviderState>(key)?
                .is_some_and(|existing| existing.auditor);
            state.put_value(
                key,
                &ProviderState {
                    address: signer.to_string(),
                    name: provider.name.clone(),
                    description: provider.description.clone(),
                    rsa_public_der: provider.rsa_public_der.clone(),
                    code_hashes: provider.code_hashes.clone(),
                    height: ctx.height,
                    auditor,
                },
            );
        }
        other => {
            return Err(TxError::Invalid(format!(
                "{} has no effects here",
                other.kind_name()
            )));
        }
    }
    Ok(())
}
