//! The car across the FFI (`CarDevice`): its own store over the host's secure storage,
//! the pairing payload it shows, its side of the pairing, sealed puts into an offline
//! queue and the queue's delivery.
//!
//! Cancellation: `put`/`put_trip` are local and atomic (one SQLite transaction queues a
//! put). `complete_pairing` keeps the owner's offer only after its accept is stored, and
//! calling it again is harmless (an accept put twice is refused as a duplicate, then the
//! offer is kept). `flush` removes a put from the queue only after the node holds it, so a
//! cancelled flush leaves the rest queued; the next flush counts puts the node already
//! has as `already_there`.

use std::path::Path;
use std::sync::Arc;

use carchain_core::device::{
    CarDevice as CoreCarDevice, DeliveryPacing, DeviceError as CoreDeviceError,
};
use carchain_core::record::FormatSpec;
use carchain_core::tokens::OwnedStamp;
use carchain_core::trip::Trip;
use serde_json::Value;

use crate::error::CarChainError;
use crate::inputs::{format_spec, parse_date, parse_json, parse_record_value};
use crate::keys::Network;
use crate::light::LightClient;
use crate::secrets::{HostSecretStore, SecretStore};

/// What a `flush` achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct FlushReport {
    /// Puts whose value this flush stored.
    pub delivered: u64,
    /// Puts the node already held (an earlier, interrupted delivery).
    pub already_there: u64,
    /// Puts still queued (the node became unreachable).
    pub remaining: u64,
}

/// The car. Thread-safe.
#[derive(Debug, uniffi::Object)]
pub struct CarDevice {
    car: CoreCarDevice,
}

impl CarDevice {
    fn queue(
        &self,
        spec: &FormatSpec,
        key: &Value,
        value: &Value,
        date: &str,
    ) -> Result<i64, CarChainError> {
        let date = parse_date(date)?;
        Ok(self.car.put(spec, key, value, date)?)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl CarDevice {
    /// Opens the car `vid`'s store file at `path`; on first boot makes its device key
    /// (kept sealed under a master key in the host's `secrets`).
    #[uniffi::constructor]
    pub fn open(
        path: String,
        secrets: Arc<dyn SecretStore>,
        vid: String,
    ) -> Result<Arc<Self>, CarChainError> {
        let host = Arc::new(HostSecretStore::new(secrets));
        let car = CoreCarDevice::open(Path::new(&path), host, &vid)?;
        Ok(Arc::new(CarDevice { car }))
    }

    /// The car's VID.
    pub fn vid(&self) -> String {
        self.car.vid().to_owned()
    }

    /// The car's own account: its device key's P2WPKH address on `network`. On a shared
    /// node it pays the car's reads (the owner funds it with `Wallet.fundCarReads`).
    pub fn account_address(&self, network: Network) -> String {
        self.car.account_address(network.into())
    }

    /// A copy of `light` that buys its read tokens from the car's own account when a
    /// shared node asks for payment (the pairing offer is the car's one read). Reads on
    /// a private node stay free. No network.
    pub fn paying_reads(&self, light: Arc<LightClient>) -> Arc<LightClient> {
        Arc::new(LightClient {
            client: self.car.paying_reads(light.client.clone()),
        })
    }

    /// A fresh pairing payload text (for a QR code) valid for `ttl_secs` seconds.
    pub fn pairing_payload(&self, ttl_secs: u64) -> Result<String, CarChainError> {
        Ok(self.car.pairing_payload(ttl_secs)?.to_text())
    }

    /// Forgets the pairing (after a transfer) and returns a new payload text.
    pub fn reset(&self, ttl_secs: u64) -> Result<String, CarChainError> {
        Ok(self.car.reset(ttl_secs)?.to_text())
    }

    /// Looks into the mailbox for the owner's offer and answers it; `false` while no
    /// offer has arrived (call again after a moment).
    pub async fn complete_pairing(&self, light: Arc<LightClient>) -> Result<bool, CarChainError> {
        Ok(self.car.complete_pairing(&light.client).await?)
    }

    /// Whether the ledger names this car as paired with its owner. Read only.
    pub async fn is_paired(&self, light: Arc<LightClient>) -> Result<bool, CarChainError> {
        Ok(self.car.is_paired(&light.client).await?)
    }

    /// Seals a record of `format` (key and value as JSON) for the owner under `date`'s
    /// (`YYYY-MM-DD`) pool address and queues it; returns its queue position.
    pub fn put(
        &self,
        format: String,
        key_json: String,
        value_json: String,
        date: String,
    ) -> Result<i64, CarChainError> {
        let spec = format_spec(&format)?;
        let key = parse_json(&key_json, "record key")?;
        let value = parse_record_value(&value_json)?;
        self.queue(&spec, &key, &value, &date)
    }

    /// Queues a `trip-gps` record after checking it decodes as a trip (points, times,
    /// speeds); returns its queue position.
    pub fn put_trip(
        &self,
        key_json: String,
        value_json: String,
        date: String,
    ) -> Result<i64, CarChainError> {
        let key = parse_json(&key_json, "trip key")?;
        let value = parse_record_value(&value_json)?;
        let Value::Object(map) = &key else {
            return Err(CarChainError::new(
                "trip.key_not_object",
                "the trip key must be a JSON object",
            ));
        };
        Trip::decode(map, &value).map_err(CoreDeviceError::from)?;
        self.queue(&FormatSpec::trip_gps(), &key, &value, &date)
    }

    /// The longest random pause between two addresses of a flush, in milliseconds
    /// (default 5000). A flush sends each day's address on its own connection, in
    /// shuffled order, spaced by such pauses.
    pub fn set_delivery_max_delay_ms(&self, ms: u64) {
        self.car.set_delivery_pacing(DeliveryPacing {
            max_delay: std::time::Duration::from_millis(ms),
        });
    }

    /// Number of puts waiting for a node.
    pub fn queue_len(&self) -> Result<u64, CarChainError> {
        Ok(self.car.queue_len()?)
    }

    /// Keeps fee stamps the owner bought (`Wallet.buy_fee_stamps`), sealed in the car's
    /// store: every put the car sends then pays its fee with one. A stamp held already is
    /// kept once. Refused: `device.fee_stamp_malformed` (nothing is kept then).
    pub fn add_fee_stamps(&self, stamps: Vec<Vec<u8>>) -> Result<(), CarChainError> {
        let owned = stamps
            .iter()
            .map(|bytes| OwnedStamp::from_bytes(bytes))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| CarChainError::new("device.fee_stamp_malformed", err.to_string()))?;
        Ok(self.car.add_fee_stamps(&owned)?)
    }

    /// Fee stamps the car holds, not yet attached to a put.
    pub fn fee_stamps_held(&self) -> Result<u64, CarChainError> {
        Ok(self.car.fee_stamps_held()?)
    }

    /// Delivers the queue, one day's address per batch and connection, addresses in
    /// shuffled order with random pauses (`set_delivery_max_delay_ms`); stops, keeping the
    /// rest, when no node is reachable. Records the node refuses stay queued.
    pub async fn flush(&self, light: Arc<LightClient>) -> Result<FlushReport, CarChainError> {
        let report = self.car.flush(&light.client).await?;
        Ok(FlushReport {
            delivered: report.delivered,
            already_there: report.already_there,
            remaining: report.remaining,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::tests::RecordingStore;
    use crate::trip::tests::{SEED_KEY, SEED_VALUE};

    fn car(dir: &tempfile::TempDir) -> Arc<CarDevice> {
        let path = dir.path().join("car.db").to_string_lossy().into_owned();
        CarDevice::open(
            path,
            Arc::new(RecordingStore::default()),
            "VIN-FFI-1".into(),
        )
        .unwrap()
    }

    #[test]
    fn malformed_fee_stamps_are_refused_and_none_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let car = car(&dir);
        let err = car.add_fee_stamps(vec![vec![1, 2, 3]]).unwrap_err();
        assert_eq!(err.code(), "device.fee_stamp_malformed");
        assert_eq!(car.fee_stamps_held().unwrap(), 0);
    }

    #[test]
    fn a_new_car_shows_a_payload_and_refuses_puts_until_paired() {
        let dir = tempfile::tempdir().unwrap();
        let car = car(&dir);
        assert_eq!(car.vid(), "VIN-FFI-1");
        let text = car.pairing_payload(600).unwrap();
        assert!(text.starts_with("carchain:pair?"), "{text}");
        assert!(text.contains("VIN-FFI-1"));
        let err = car
            .put_trip(SEED_KEY.into(), SEED_VALUE.into(), "2016-05-11".into())
            .unwrap_err();
        assert_eq!(err.code(), "device.not_paired");
        assert_eq!(car.queue_len().unwrap(), 0);
    }

    #[test]
    fn bad_inputs_have_codes() {
        let dir = tempfile::tempdir().unwrap();
        let car = car(&dir);
        let cases = [
            (SEED_KEY, SEED_VALUE, "2016/05/11", "input.invalid_date"),
            ("{", SEED_VALUE, "2016-05-11", "input.invalid_json"),
            ("[1]", SEED_VALUE, "2016-05-11", "trip.key_not_object"),
            (SEED_KEY, r#"{"GPS":[]}"#, "2016-05-11", "trip.empty_track"),
        ];
        for (key, value, date, code) in cases {
            let err = car
                .put_trip(key.into(), value.into(), date.into())
                .unwrap_err();
            assert_eq!(err.code(), code, "{key} {value} {date}");
        }
        let err = car
            .put("nope".into(), "{}".into(), "{}".into(), "2016-05-11".into())
            .unwrap_err();
        assert_eq!(err.code(), "input.unknown_format");
    }

    #[test]
    fn a_store_of_another_vid_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("car.db").to_string_lossy().into_owned();
        let secrets = Arc::new(RecordingStore::default());
        drop(CarDevice::open(path.clone(), secrets.clone(), "VIN-A".into()).unwrap());
        let err = CarDevice::open(path, secrets, "VIN-B".into()).unwrap_err();
        assert_eq!(err.code(), "device.wrong_vid");
        assert!(matches!(err, CarChainError::Storage { .. }));
    }
}
