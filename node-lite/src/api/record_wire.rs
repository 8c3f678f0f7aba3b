//! Direct decoding of `POST /v1/records` items: the signed transaction and the base64
//! value are read straight from the JSON text into their final types — hex into fixed
//! arrays, a `record_put` body without the buffering an internally tagged enum needs, one
//! public-key decompression per run of items by the same signer — with the same accepted
//! input and the same refusals as the protocol types' own serde forms.

use std::cell::RefCell;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bitcoin::secp256k1::PublicKey;
use bitcoin::secp256k1::ecdsa::Signature;
use carchain_core::crypto::HashFunc;
use carchain_core::protocol::signing::signature_from_compact;
use carchain_core::protocol::{
    FeeStamp, Network, RecordPut, SignedTransaction, Transaction, TxBody,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// Tag of the record-put body in the JSON form of [`TxBody`].
const RECORD_PUT_TAG: &str = "record_put";

thread_local! {
    /// The last signer key decoded on this thread, kept with its 33 compressed bytes:
    /// a batch's items mostly share one signer, whose key then decompresses once.
    static LAST_SIGNER: RefCell<Option<([u8; 33], PublicKey)>> = const { RefCell::new(None) };
}

/// A signed transaction decoded from its JSON form (the same form
/// [`SignedTransaction`]'s serde reads).
#[derive(Debug, Clone)]
pub struct WireSignedTransaction(pub SignedTransaction);

/// A value decoded from standard base64: `None` when the text is not base64 (the caller
/// names the item in its refusal).
#[derive(Debug, Clone)]
pub struct WireBase64(pub Option<Vec<u8>>);

/// One item of a batch, as decoded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRecordItem {
    /// The signed `RecordPut` transaction.
    pub tx: WireSignedTransaction,
    /// The encrypted value.
    pub value: WireBase64,
    /// The address's write credential (hex), when the node is private.
    #[serde(default)]
    pub credential: Option<String>,
}

/// Body of `POST /v1/records`, as decoded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRecordsBody {
    /// The records.
    pub items: Vec<WireRecordItem>,
}

/// Hex text of exactly `N` bytes.
struct HexArray<const N: usize>([u8; N]);

impl<'de, const N: usize> Deserialize<'de> for HexArray<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor<const N: usize>;
        impl<const N: usize> Visitor<'_> for HexVisitor<N> {
            type Value = HexArray<N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "hex of {N} bytes")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                if text.len() != 2 * N {
                    return Err(E::custom(format!(
                        "expected {N} bytes of hex, got {} digits",
                        text.len()
                    )));
                }
                let mut bytes = [0u8; N];
                hex::decode_to_slice(text, &mut bytes)
                    .map_err(|err| E::custom(format!("invalid hex: {err}")))?;
                Ok(HexArray(bytes))
            }
        }
        deserializer.deserialize_str(HexVisitor::<N>)
    }
}

/// Hex text of any even length.
struct HexBytes(Vec<u8>);

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;
        impl Visitor<'_> for HexVisitor {
            type Value = HexBytes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("hex bytes")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                hex::decode(text)
                    .map(HexBytes)
                    .map_err(|err| E::custom(format!("invalid hex: {err}")))
            }
        }
        deserializer.deserialize_str(HexVisitor)
    }
}

impl<'de> Deserialize<'de> for WireBase64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Base64Visitor;
        impl Visitor<'_> for Base64Visitor {
            type Value = WireBase64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(WireBase64(BASE64.decode(text.as_bytes()).ok()))
            }
        }
        deserializer.deserialize_str(Base64Visitor)
    }
}

/// A compressed public key, decompressed unless it repeats this thread's last signer.
fn signer_key<E: de::Error>(bytes: [u8; 33]) -> Result<PublicKey, E> {
    let cached = LAST_SIGNER.with(|last| {
        last.borrow()
            .as_ref()
            .filter(|(raw, _)| *raw == bytes)
            .map(|(_, key)| *key)
    });
    if let Some(key) = cached {
        return Ok(key);
    }
    let key =
        PublicKey::from_slice(&bytes).map_err(|_| E::custom("invalid secp256k1 public key"))?;
    LAST_SIGNER.with(|last| *last.borrow_mut() = Some((bytes, key)));
    Ok(key)
}

struct WireSigner(PublicKey);

impl<'de> Deserialize<'de> for WireSigner {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let HexArray(bytes) = HexArray::<33>::deserialize(deserializer)?;
        signer_key(bytes).map(WireSigner)
    }
}

struct WireSignature(Signature);

impl<'de> Deserialize<'de> for WireSignature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let HexArray(bytes) = HexArray::<64>::deserialize(deserializer)?;
        signature_from_compact(&bytes)
            .map(WireSignature)
            .map_err(de::Error::custom)
    }
}

#[derive(Deserialize)]
struct WireTransaction {
    chain_id: String,
    network: Network,
    signer: WireSigner,
    nonce: u64,
    fee: u64,
    body: WireBody,
}

#[derive(Deserialize)]
struct WireSigned {
    tx: WireTransaction,
    signature: WireSignature,
}

impl<'de> Deserialize<'de> for WireSignedTransaction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireSigned::deserialize(deserializer)?;
        Ok(WireSignedTransaction(SignedTransaction {
            tx: Transaction {
                chain_id: wire.tx.chain_id,
                network: wire.tx.network,
                signer: wire.tx.signer.0,
                nonce: wire.tx.nonce,
                fee: wire.tx.fee,
                body: wire.tx.body.0,
            },
            signature: wire.signature.0,
        }))
    }
}

/// A transaction body: a `record_put` whose tag comes first is read field by field; any
/// other body goes through [`TxBody`]'s own serde form.
struct WireBody(TxBody);

/// A key of a body object.
struct BodyKey(String);

impl<'de> Deserialize<'de> for BodyKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = BodyKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(BodyKey(text.to_owned()))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Records `value` as the field `name`, refusing a second one.
fn once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads the fields of a `record_put` body after its tag.
fn record_put_fields<'de, A: MapAccess<'de>>(mut map: A) -> Result<RecordPut, A::Error> {
    let mut address = None;
    let mut key = None;
    let mut format = None;
    let mut hash_func = None;
    let mut d_hash = None;
    let mut c_hash = None;
    let mut size = None;
    let mut wallet = None;
    let mut stamp = None;
    while let Some(BodyKey(name)) = map.next_key()? {
        match name.as_str() {
            "address" => once(&mut address, "address", map.next_value::<String>()?)?,
            "key" => once(&mut key, "key", map.next_value::<HexBytes>()?.0)?,
            "format" => once(&mut format, "format", map.next_value::<String>()?)?,
            "hash_func" => once(&mut hash_func, "hash_func", map.next_value::<HashFunc>()?)?,
            "d_hash" => once(&mut d_hash, "d_hash", map.next_value::<HexArray<32>>()?.0)?,
            "c_hash" => once(&mut c_hash, "c_hash", map.next_value::<HexArray<32>>()?.0)?,
            "size" => once(&mut size, "size", map.next_value::<u64>()?)?,
            "wallet" => once(&mut wallet, "wallet", map.next_value::<bool>()?)?,
            "stamp" => once(&mut stamp, "stamp", map.next_value::<Option<FeeStamp>>()?)?,
            "type" => return Err(de::Error::duplicate_field("type")),
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(RecordPut {
        address: address.ok_or_else(|| de::Error::missing_field("address"))?,
        key: key.ok_or_else(|| de::Error::missing_field("key"))?,
        format: format.ok_or_else(|| de::Error::missing_field("format"))?,
        hash_func: hash_func.ok_or_else(|| de::Error::missing_field("hash_func"))?,
        d_hash: d_hash.ok_or_else(|| de::Error::missing_field("d_hash"))?,
        c_hash: c_hash.ok_or_else(|| de::Error::missing_field("c_hash"))?,
        size: size.ok_or_else(|| de::Error::missing_field("size"))?,
        wallet: wallet.unwrap_or(false),
        stamp: stamp.flatten(),
    })
}

/// Reads the rest of a body object into a JSON map (after `first`), then decodes it as a
/// [`TxBody`].
fn generic_body<'de, A: MapAccess<'de>>(
    first: (String, serde_json::Value),
    mut map: A,
) -> Result<TxBody, A::Error> {
    let mut object = serde_json::Map::new();
    object.insert(first.0, first.1);
    while let Some(BodyKey(name)) = map.next_key()? {
        let value = map.next_value::<serde_json::Value>()?;
        if object.insert(name.clone(), value).is_some() {
            return Err(de::Error::custom(format!("duplicate field `{name}`")));
        }
    }
    TxBody::deserialize(serde_json::Value::Object(object)).map_err(de::Error::custom)
}

impl<'de> Deserialize<'de> for WireBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BodyVisitor;
        impl<'de> Visitor<'de> for BodyVisitor {
            type Value = WireBody;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a transaction body object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireBody, A::Error> {
                let Some(BodyKey(first)) = map.next_key()? else {
                    return Err(de::Error::missing_field("type"));
                };
                let value = map.next_value::<serde_json::Value>()?;
                if first == "type" && value.as_str() == Some(RECORD_PUT_TAG) {
                    return record_put_fields(map).map(|put| WireBody(TxBody::RecordPut(put)));
                }
                generic_body((first, value), map).map(WireBody)
            }
        }
        deserializer.deserialize_map(BodyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carchain_core::protocol::signing::{public_key_of, secret_key_from_bytes};
    use carchain_core::protocol::{Transfer, TxBody};
    use serde_json::{Value, json};

    fn signed(secret_byte: u8, nonce: u64, body: TxBody) -> SignedTransaction {
        let secret = secret_key_from_bytes(&[secret_byte; 32]).unwrap();
        Transaction {
            chain_id: "carchain-test".into(),
            network: Network::Regtest,
            signer: public_key_of(&secret),
            nonce,
            fee: 10,
            body,
        }
        .sign(&secret)
        .unwrap()
    }

    fn record_put(secret_byte: u8, nonce: u64, wallet: bool) -> SignedTransaction {
        signed(
            secret_byte,
            nonce,
            TxBody::RecordPut(RecordPut {
                address: "bcrt1qexample".into(),
                key: nonce.to_be_bytes().to_vec(),
                format: "carvio".into(),
                hash_func: HashFunc::DoubleSha256,
                d_hash: [0xd1; 32],
                c_hash: [0xc2; 32],
                size: 1024,
                wallet,
                stamp: None,
            }),
        )
    }

    fn decode(tx: &Value) -> Result<SignedTransaction, serde_json::Error> {
        serde_json::from_value::<WireSignedTransaction>(tx.clone()).map(|wire| wire.0)
    }

    #[test]
    fn record_puts_decode_to_what_the_protocol_serde_reads() {
        for (byte, nonce, wallet) in [(1, 0, false), (1, 7, true), (2, 3, false), (1, 9, false)] {
            let tx = record_put(byte, nonce, wallet);
            let text = serde_json::to_vec(&tx).unwrap();
            let fast: WireSignedTransaction = serde_json::from_slice(&text).unwrap();
            assert_eq!(fast.0, tx);
            assert_eq!(fast.0.id(), tx.id());
            fast.0.verify_signature().unwrap();
        }
    }

    #[test]
    fn other_bodies_and_a_late_tag_take_the_generic_path() {
        let transfer = signed(
            3,
            1,
            TxBody::Transfer(Transfer {
                to: "bcrt1qsomeone".into(),
                amount: 55,
            }),
        );
        assert_eq!(decode(&json!(transfer)).unwrap(), transfer);

        let put = record_put(4, 2, false);
        let mut json = json!(put);
        let body = json["tx"]["body"].as_object().unwrap().clone();
        let mut reordered = serde_json::Map::new();
        for (name, value) in body.iter().filter(|(name, _)| *name != "type") {
            reordered.insert(name.clone(), value.clone());
        }
        reordered.insert("type".into(), Value::from("record_put"));
        json["tx"]["body"] = Value::Object(reordered);
        let text = serde_json::to_string(&json["tx"]["body"]).unwrap();
        assert!(
            text.find("\"type\"").unwrap() > 1,
            "the tag must come after other fields: {text}"
        );
        assert_eq!(decode(&json).unwrap(), put);
    }

    #[test]
    fn wallet_defaults_to_false_and_unknown_body_fields_are_ignored() {
        let put = record_put(5, 0, false);
        let mut json = json!(put);
        let body = json["tx"]["body"].as_object_mut().unwrap();
        body.remove("wallet");
        body.insert("extra".into(), json!({"nested": [1, 2]}));
        assert_eq!(decode(&json).unwrap(), put);
    }

    #[test]
    fn a_new_signer_after_a_cached_one_is_decoded_afresh() {
        let first = record_put(6, 0, false);
        let second = record_put(7, 0, false);
        assert_ne!(first.tx.signer, second.tx.signer);
        assert_eq!(decode(&json!(first)).unwrap(), first);
        assert_eq!(decode(&json!(second)).unwrap(), second);
        assert_eq!(decode(&json!(first)).unwrap(), first);
    }

    /// Each case edits a valid record put's JSON; every one must be refused.
    #[test]
    fn bad_fields_are_refused() {
        type Edit = fn(&mut Value);
        let cases: Vec<(&str, Edit)> = vec![
            ("short signer", |v| v["tx"]["signer"] = json!("02ab")),
            ("signer off the curve", |v| {
                v["tx"]["signer"] = json!(format!("05{}", "11".repeat(32)));
            }),
            ("signer not hex", |v| {
                v["tx"]["signer"] = json!("zz".repeat(33));
            }),
            ("short signature", |v| {
                v["signature"] = json!("00".repeat(63));
            }),
            ("high-S signature", |v| {
                v["signature"] = json!(format!("{}{}", "11".repeat(32), "ff".repeat(32)));
            }),
            ("d_hash too long", |v| {
                v["tx"]["body"]["d_hash"] = json!("00".repeat(33));
            }),
            ("c_hash not hex", |v| {
                v["tx"]["body"]["c_hash"] = json!("gg".repeat(32));
            }),
            ("key odd hex", |v| v["tx"]["body"]["key"] = json!("abc")),
            ("size negative", |v| v["tx"]["body"]["size"] = json!(-1)),
            ("missing c_hash", |v| {
                v["tx"]["body"].as_object_mut().unwrap().remove("c_hash");
            }),
            ("missing nonce", |v| {
                v["tx"].as_object_mut().unwrap().remove("nonce");
            }),
            ("unknown hash_func", |v| {
                v["tx"]["body"]["hash_func"] = json!("md5");
            }),
            ("unknown body type", |v| {
                v["tx"]["body"]["type"] = json!("record_putt");
            }),
            ("body not an object", |v| {
                v["tx"]["body"] = json!("record_put");
            }),
            ("empty body", |v| v["tx"]["body"] = json!({})),
            ("unknown network", |v| v["tx"]["network"] = json!("moon")),
        ];
        let good = json!(record_put(8, 1, false));
        assert!(decode(&good).is_ok());
        for (name, edit) in cases {
            let mut json = good.clone();
            edit(&mut json);
            assert!(decode(&json).is_err(), "{name} was accepted");
        }
    }

    #[test]
    fn a_duplicated_body_field_is_refused() {
        let good = serde_json::to_string(&record_put(9, 1, false)).unwrap();
        let doubled = good.replacen("\"size\":1024", "\"size\":1024,\"size\":1", 1);
        assert_ne!(doubled, good);
        assert!(serde_json::from_str::<WireSignedTransaction>(&doubled).is_err());
        let doubled_tag = good.replacen("\"size\":1024", "\"size\":1024,\"type\":\"transfer\"", 1);
        assert!(serde_json::from_str::<WireSignedTransaction>(&doubled_tag).is_err());
    }

    #[test]
    fn items_decode_values_and_flag_bad_base64() {
        let put = record_put(10, 0, false);
        let body = json!({"items": [
            {"tx": put, "value": "AAEC"},
            {"tx": put, "value": "not base64!", "credential": "00ff"},
        ]});
        let decoded: WireRecordsBody = serde_json::from_value(body).unwrap();
        assert_eq!(decoded.items.len(), 2);
        assert_eq!(decoded.items[0].value.0, Some(vec![0, 1, 2]));
        assert_eq!(decoded.items[0].tx.0, put);
        assert_eq!(decoded.items[1].value.0, None);
        assert_eq!(decoded.items[1].credential.as_deref(), Some("00ff"));
        let unknown = json!({"items": [{"tx": put, "value": "AAEC", "extra": 1}]});
        assert!(serde_json::from_value::<WireRecordsBody>(unknown).is_err());
        let old = json!({"items": [{"tx": put, "value": "AAEC", "device": {"vid": "V1"}}]});
        assert!(
            serde_json::from_value::<WireRecordsBody>(old).is_err(),
            "the device authorisation is gone from the wire"
        );
    }
}
