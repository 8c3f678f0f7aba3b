//! The owner's wallet staking on a real `carchain-node` whose genesis (`init --stake
//! --power-unit --unbonding-blocks`) bonds the owner's tokens to a validator:
//! `Wallet::bond` and `Wallet::unbond` sign and submit, with typed errors checked against
//! the proven balance and stake before anything is sent; `Wallet::stake` and
//! `LightClient::validator_stake` read the stake with its proof. An unbond lowers the
//! power at once and the tokens come back after the unbonding delay.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use carchain_testkit::node_process;

use std::sync::Arc;

use carchain_core::protocol::fee_for;
use carchain_core::protocol::{Bond, Delegation, TxBody, ValidatorStake};
use carchain_core::store::{InMemorySecretStore, WalletStore};
use carchain_core::wallet::{StakeError, Wallet};

const CHAIN_ID: &str = "carchain-wallet-stake";
const FUNDED: u64 = 1_000_000;
/// The published BIP39 vector the owner restores (funded at genesis).
const OWNER_WORDS: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";
/// The ed25519 base point: a valid validator key.
const VALIDATOR: &str = "5866666666666666666666666666666666666666666666666666666666666666";

fn wallet(words: &str) -> Wallet {
    let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).expect("store");
    Wallet::restore_in(store, carchain_core::protocol::Network::Regtest, words, "").expect("wallet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_bonds_unbonds_and_reads_its_stake_with_proof() {
    let owner = wallet(OWNER_WORDS);
    let validator: [u8; 32] = hex::decode(VALIDATOR)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .expect("key");
    let genesis_stake = format!("{VALIDATOR}={}:1000", owner.owner_address());
    let node = node_process::start_with_init(
        CHAIN_ID,
        &[(&owner.owner_address(), FUNDED)],
        &[
            "--stake",
            &genesis_stake,
            "--power-unit",
            "10",
            "--unbonding-blocks",
            "1",
        ],
        &[],
    );
    let client = node.client();
    client.sync(&|_| {}).await.expect("sync");
    assert_eq!(
        owner.stake(&client, validator).await.expect("stake"),
        Delegation {
            bonded: 1_000,
            unbonding: 0
        }
    );
    assert_eq!(
        client.validator_stake(&validator).await.expect("validator"),
        ValidatorStake {
            bonded: 1_000,
            power: 100
        }
    );

    // Typed refusals before anything is sent.
    assert!(matches!(
        owner.bond(&client, validator, 0).await,
        Err(StakeError::ZeroAmount)
    ));
    assert!(matches!(
        owner.bond(&client, validator, FUNDED).await,
        Err(StakeError::InsufficientFunds { .. })
    ));
    assert!(matches!(
        owner.unbond(&client, validator, 1_001).await,
        Err(StakeError::InsufficientStake {
            bonded: 1_000,
            requested: 1_001
        })
    ));

    let fee = fee_for(&TxBody::Bond(Bond {
        validator,
        amount: 1,
    }));
    owner
        .bond(&client, validator, 5_000)
        .await
        .unwrap_or_else(|e| panic!("bond: {e}\n{}", node.log_text()));
    let power = client.validator_stake(&validator).await.expect("power");
    assert_eq!(power.power, 600);
    let balance = client
        .account(&owner.owner_address())
        .await
        .expect("account")
        .balance;
    assert_eq!(balance, FUNDED - 5_000 - fee);

    owner
        .unbond(&client, validator, 2_000)
        .await
        .unwrap_or_else(|e| panic!("unbond: {e}\n{}", node.log_text()));
    assert_eq!(
        client
            .validator_stake(&validator)
            .await
            .expect("power")
            .power,
        400,
        "the power drops at once"
    );
    let stake = owner.stake(&client, validator).await.expect("stake");
    // Either still waiting or (the next block came) already back: never lost.
    let back = client
        .account(&owner.owner_address())
        .await
        .expect("account")
        .balance;
    assert_eq!(stake.bonded, 4_000);
    assert_eq!(
        back + stake.unbonding,
        balance - fee + 2_000,
        "{stake:?} {back}"
    );
    // One more block passes the delay: the tokens are back.
    owner
        .bond(&client, validator, 1)
        .await
        .unwrap_or_else(|e| panic!("bond: {e}"));
    let stake = owner.stake(&client, validator).await.expect("stake");
    assert_eq!(stake.unbonding, 0);
    assert_eq!(
        client
            .account(&owner.owner_address())
            .await
            .expect("account")
            .balance,
        balance - fee + 2_000 - 1 - fee
    );
}
