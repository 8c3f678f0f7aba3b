//! `carchain wallet new|restore|address|balance|send`. New words are printed once, to stdout,
//! with a warning; restored words are read from stdin only. Neither ever reaches stderr.

use std::io::Read;

use carchain_core::keys::WordCount;
use carchain_core::wallet::Wallet;
use serde_json::json;
use zeroize::Zeroizing;

use super::args::WalletCommand;
use super::error::CliError;
use super::output::emit;
use super::session::{Session, canonical_address};

/// Runs a `wallet` command.
pub async fn run(session: &Session, command: &WalletCommand) -> Result<(), CliError> {
    match command {
        WalletCommand::New { words } => new_wallet(session, *words),
        WalletCommand::Restore => restore(session),
        WalletCommand::Address => {
            let wallet = session.open_wallet()?;
            emit(
                session.json,
                &json!({"owner_address": wallet.owner_address(),
                        "rsa_fingerprint": wallet.rsa_fingerprint(),
                        "network": wallet.network().to_string()}),
                || {
                    format!(
                        "owner address   {}\nRSA fingerprint {}\nnetwork         {}",
                        wallet.owner_address(),
                        wallet.rsa_fingerprint(),
                        wallet.network()
                    )
                },
            );
            Ok(())
        }
        WalletCommand::Balance => {
            let wallet = session.open_wallet()?;
            let light = session.wallet_light(&wallet).await?;
            let account = light.account(&wallet.owner_address()).await?;
            emit(
                session.json,
                &json!({"owner_address": wallet.owner_address(), "balance": account.balance,
                        "nonce": account.nonce}),
                || format!("{}  balance {}", wallet.owner_address(), account.balance),
            );
            Ok(())
        }
        WalletCommand::Backup { out } => {
            let wallet = session.open_wallet()?;
            wallet.write_backup(out)?;
            emit(
                session.json,
                &json!({"backup": out.display().to_string(),
                        "owner_address": wallet.owner_address()}),
                || format!("backup written to {}", out.display()),
            );
            Ok(())
        }
        WalletCommand::RestoreBackup { from } => {
            let wallet = session.open_wallet()?;
            let counts = wallet.restore_backup(from)?;
            emit(
                session.json,
                &json!({"devices": counts.devices, "grants": counts.grants,
                        "provider_requests": counts.provider_requests,
                        "read_tokens": counts.read_tokens}),
                || {
                    format!(
                        "restored {} car(s), {} grant(s), {} request(s), {} read token(s)",
                        counts.devices, counts.grants, counts.provider_requests, counts.read_tokens
                    )
                },
            );
            Ok(())
        }
        WalletCommand::Send { to, amount } => {
            let wallet = session.open_wallet()?;
            let light = session.wallet_light(&wallet).await?;
            let to = canonical_address(to, wallet.network());
            let receipt = wallet.transfer(&light, &to, *amount).await?;
            let tx_id = hex::encode(receipt.tx_id);
            emit(
                session.json,
                &json!({"from": wallet.owner_address(), "to": to, "amount": amount,
                        "tx_id": tx_id, "height": receipt.height}),
                || format!("sent {amount} to {to}  tx {tx_id}"),
            );
            Ok(())
        }
    }
}

fn refuse_existing(session: &Session) -> Result<(), CliError> {
    let path = session.wallet_path()?;
    if path.exists() {
        return Err(CliError::Input(format!(
            "a wallet already exists at {}; choose another --wallet path",
            path.display()
        )));
    }
    Ok(())
}

fn new_wallet(session: &Session, words: u8) -> Result<(), CliError> {
    refuse_existing(session)?;
    let count = if words == 24 {
        WordCount::TwentyFour
    } else {
        WordCount::Twelve
    };
    let path = session.wallet_path()?;
    let (wallet, mnemonic) =
        Wallet::create(path, Session::secrets_for(path), session.network, count, "")?;
    let warning = "Write these recovery words down and keep them offline. They are shown \
                   only this once; anyone who has them owns this wallet and its cars' data.";
    emit(
        session.json,
        &json!({"owner_address": wallet.owner_address(),
                "rsa_fingerprint": wallet.rsa_fingerprint(),
                "words": mnemonic.phrase(), "warning": warning}),
        || {
            format!(
                "owner address {}\n\n{warning}\n\n    {}\n",
                wallet.owner_address(),
                mnemonic.phrase()
            )
        },
    );
    Ok(())
}

fn restore(session: &Session) -> Result<(), CliError> {
    refuse_existing(session)?;
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::Input(format!("reading the recovery words from stdin: {e}")))?;
    if text.trim().is_empty() {
        return Err(CliError::Input(
            "no recovery words on stdin (pipe or type them, then end with Ctrl-D)".into(),
        ));
    }
    let path = session.wallet_path()?;
    let wallet = Wallet::restore(path, Session::secrets_for(path), session.network, &text, "")
        .inspect_err(|_| {
            // Nothing of a refused restore stays behind.
            let _ = std::fs::remove_file(path);
            let _ = std::fs::remove_file(super::secrets::key_file_for(path));
        })?;
    emit(
        session.json,
        &json!({"owner_address": wallet.owner_address(),
                "rsa_fingerprint": wallet.rsa_fingerprint()}),
        || format!("restored: owner address {}", wallet.owner_address()),
    );
    Ok(())
}
