//! The CarChain tour: the first thing a newcomer runs.
//!
//! Today it walks through what the SDK core does on a phone and in a car, with the
//! design's own example data: restore a wallet from its words, derive a car's secret
//! address pool and the addresses it writes to day by day, seal the three example
//! records as a car would (`putIotKV`, `putWalKV`), open them as the owner (`getKV`,
//! one RSA decryption for the day), and decode the trip for a map view.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};
use carchain_core::crypto::{EpochKeyCache, HashFunc, SealingEpoch};
use carchain_core::keys::{Mnemonic, Network, RsaBits, WalletKeys};
use carchain_core::pool::{AddressPool, PoolSeed, pool_addresses_for_days};
use carchain_core::record::{FormatRegistry, parse_value};
use carchain_core::sealed::{Opener, open_record, seal_record};
use carchain_core::trip::Trip;
use carchain_examples::seed_vectors as seed;
use chrono::NaiveDate;
use clap::Parser;

/// Walks through CarChain's wallet and car flows with the design's example data.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Folder to write the decoded trip to (GeoJSON, GPX, polyline).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Address network: regtest, testnet or mainnet.
    #[arg(long, default_value = "regtest")]
    network: Network,
    /// Size of the car's address pool (1..=10000).
    #[arg(long, default_value_t = 32)]
    pool_size: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    println!("CarChain tour\n=============\n");

    println!("1. The owner's wallet, restored from its 12 words");
    let words = Mnemonic::parse(seed::WORDS).context("parsing the recovery words")?;
    let wallet = WalletKeys::from_mnemonic(&words, "", args.network, RsaBits::B2048)
        .context("restoring the wallet keys")?;
    println!(
        "   owner address ({}): {}",
        args.network,
        wallet.owner_address()
    );
    for other in [Network::Mainnet, Network::Testnet, Network::Regtest] {
        if other != args.network {
            let keys = WalletKeys::from_mnemonic(&words, "", other, RsaBits::B2048)?;
            println!("   same words on {other:<8}: {}", keys.owner_address());
        }
    }
    println!(
        "   RSA-2048 public key fingerprint: {}",
        wallet.rsa_fingerprint()
    );

    println!(
        "\n2. The car {} gets a secret pool of {} addresses",
        seed::VID,
        args.pool_size
    );
    let pool = AddressPool::derive(&wallet, seed::VID, 0, args.pool_size)?;
    let pool_seed = PoolSeed::derive(wallet.seed(), seed::VID, 0)?;
    let first = pool.addresses().first().context("empty pool")?;
    println!(
        "   BIP32 account {}', first pool address {first}",
        pool.account()
    );
    let from = NaiveDate::from_ymd_opt(2016, 5, 11).context("date")?;
    let to = NaiveDate::from_ymd_opt(2016, 5, 17).context("date")?;
    println!("   the address of each day (only the owner and the car can compute these):");
    for (day, address) in
        pool_addresses_for_days(pool.addresses(), from, to, seed::VID, &pool_seed)?
    {
        let index = pool.index_of(&address).unwrap_or(usize::MAX);
        println!("     {day}  pool[{index:>4}]  {address}");
    }

    println!("\n3. The car seals the example records for the owner (putIotKV / putWalKV)");
    let registry = FormatRegistry::with_builtins();
    let day_address = pool_addresses_for_days(pool.addresses(), from, from, seed::VID, &pool_seed)?
        .into_iter()
        .next()
        .map(|(_, address)| address.to_string())
        .context("no address for the day")?;
    let epoch = SealingEpoch::new(&wallet.rsa_public_key())?;
    let owner_address = wallet.owner_address().to_string();
    let examples = [
        (
            "trip-gps",
            day_address.as_str(),
            seed::TRIP_KEY,
            seed::TRIP_VALUE,
        ),
        (
            "carvio",
            day_address.as_str(),
            seed::CARVIO_KEY,
            seed::CARVIO_VALUE,
        ),
        (
            "VIN_CODE",
            owner_address.as_str(),
            seed::VIN_KEY,
            seed::VIN_VALUE,
        ),
    ];
    let mut sealed = Vec::new();
    for (format, address, key, value) in examples {
        let record = seal_record(
            registry.get(format)?,
            address,
            &parse_value(key)?,
            &parse_value(value)?,
            HashFunc::Sha256,
            &epoch,
        )?;
        println!(
            "   {format:<9} key {}  {} B sealed  dHash {}…  cHash {}…",
            record.key.to_hex(),
            record.size(),
            &hex::encode(record.d_hash)[..12],
            &hex::encode(record.c_hash)[..12],
        );
        sealed.push(record);
    }

    println!("\n4. The owner opens them (getKV): cHash before decrypting, dHash after");
    let mut cache = EpochKeyCache::new();
    let columns: Vec<String> = ["VEHICLE_DATA", "GPS", "SPEED"].map(String::from).into();
    let mut trip_value = None;
    for record in &sealed {
        let cols: &[String] = if record.format == "trip-gps" {
            &columns
        } else {
            &[]
        };
        let value = open_record(
            record,
            Opener::Owner {
                rsa: wallet.rsa_private_key(),
                cache: &mut cache,
            },
            cols,
        )?;
        let text = value.to_string();
        let shown: String = text.chars().take(90).collect();
        println!(
            "   {:<9} {shown}{}",
            record.format,
            if text.len() > 90 { "…" } else { "" }
        );
        if record.format == "trip-gps" {
            trip_value = Some(value);
        }
    }
    println!(
        "   RSA decryptions: {} for {} records",
        cache.stats().unwraps,
        sealed.len()
    );

    println!("\n5. The trip, decoded for a map view");
    let key = parse_value(seed::TRIP_KEY)?;
    let key_map = key.as_object().context("trip key is an object")?;
    let trip = Trip::decode(key_map, &trip_value.context("trip was opened")?)?;
    let summary = trip.summary()?;
    println!(
        "   {} points, {:.1} km in {} min, avg {:.1} km/h, max {:.0} km/h",
        summary.point_count,
        summary.distance_m / 1000.0,
        summary.duration_s / 60,
        summary.avg_speed_kmh,
        summary.max_speed_kmh
    );
    println!("   encoded polyline: {}", trip.polyline());
    if let Some(out) = args.out {
        fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
        fs::write(out.join("trip.geojson"), trip.to_geojson()?)?;
        fs::write(out.join("trip.gpx"), trip.to_gpx("carchain-tour")?)?;
        fs::write(out.join("trip.polyline.txt"), trip.polyline())?;
        println!(
            "   wrote trip.geojson, trip.gpx and trip.polyline.txt to {}",
            out.display()
        );
    }
    println!("\nDone. Next: docs in README.md; every test: ./scripts/test-all");
    Ok(())
}
