//! Subscription channels (the seed's "sideKey"): the car seals records under a
//! channel's epoch key, which is wrapped once for the owner and once for each
//! subscriber. Removing a subscriber means rotating to the next channel epoch with a
//! fresh key distributed only to those who remain; records sealed after the rotation
//! are out of the removed subscriber's reach.

use std::collections::HashSet;

use rsa::{PrivateKey, PublicKey};

use super::error::{CryptoError, CryptoResult};
use super::hierarchy::SealingEpoch;
use super::symmetric::EpochKey;
use super::wrap::WrappedKey;

/// One epoch of a subscription channel: a numbered epoch key.
#[derive(Debug, Clone)]
pub struct ChannelKey {
    epoch: u32,
    key: EpochKey,
}

/// A channel key wrapped for each subscriber, by subscriber id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelKeyDistribution {
    /// The channel epoch the wrapped key belongs to.
    pub epoch: u32,
    /// `(subscriber id, channel key wrapped for that subscriber)`, in the given order.
    pub entries: Vec<(String, WrappedKey)>,
}

impl ChannelKey {
    /// A fresh random key for channel epoch `epoch`.
    pub fn generate(epoch: u32) -> CryptoResult<Self> {
        Ok(Self {
            epoch,
            key: EpochKey::generate()?,
        })
    }

    /// A channel key from its parts (for example, restored from storage).
    pub fn from_parts(epoch: u32, key: EpochKey) -> Self {
        Self { epoch, key }
    }

    /// The channel epoch number.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The epoch key records are sealed under.
    pub fn key(&self) -> &EpochKey {
        &self.key
    }

    /// The next channel epoch, with a fresh, unrelated key.
    pub fn rotate(&self) -> CryptoResult<Self> {
        let epoch = self
            .epoch
            .checked_add(1)
            .ok_or(CryptoError::EpochOverflow)?;
        Self::generate(epoch)
    }

    /// Wraps this key for every subscriber; ids must be unique.
    pub fn distribute(
        &self,
        subscribers: &[(String, PublicKey)],
    ) -> CryptoResult<ChannelKeyDistribution> {
        let mut seen = HashSet::new();
        let mut entries = Vec::with_capacity(subscribers.len());
        for (id, public) in subscribers {
            if !seen.insert(id.as_str()) {
                return Err(CryptoError::DuplicateSubscriber(id.clone()));
            }
            entries.push((id.clone(), WrappedKey::wrap_epoch_key(&self.key, public)?));
        }
        Ok(ChannelKeyDistribution {
            epoch: self.epoch,
            entries,
        })
    }

    /// The sealing epoch for the car: this key, wrapped once for the owner.
    pub fn sealing_epoch(&self, owner: &PublicKey) -> CryptoResult<SealingEpoch> {
        let wrapped = WrappedKey::wrap_epoch_key(&self.key, owner)?;
        Ok(SealingEpoch::from_parts(self.key.clone(), wrapped))
    }
}

impl ChannelKeyDistribution {
    /// The channel key for `subscriber_id`, unwrapped with its private key:
    /// `NotASubscriber` if the id is not listed, `WrongKey` if the key is not theirs.
    pub fn recover(&self, subscriber_id: &str, private: &PrivateKey) -> CryptoResult<ChannelKey> {
        let (_, wrapped) = self
            .entries
            .iter()
            .find(|(id, _)| id == subscriber_id)
            .ok_or_else(|| CryptoError::NotASubscriber(subscriber_id.to_owned()))?;
        Ok(ChannelKey {
            epoch: self.epoch,
            key: wrapped.unwrap_epoch_key(private)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::envelope::{Envelope, seal};
    use crate::crypto::hierarchy::RecordContext;
    use crate::crypto::test_keys::{grantee, outsider, owner};

    fn ctx(key_bytes: &[u8]) -> RecordContext<'_> {
        RecordContext {
            address: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
            key_bytes,
            format: "trip-gps",
        }
    }

    fn subscribers() -> Vec<(String, PublicKey)> {
        vec![
            ("insurer".to_owned(), grantee().to_public_key()),
            ("dealer".to_owned(), outsider().to_public_key()),
        ]
    }

    #[test]
    fn each_subscriber_recovers_the_channel_key_and_reads_records() -> CryptoResult<()> {
        let channel = ChannelKey::generate(7)?;
        let distribution = channel.distribute(&subscribers())?;
        assert_eq!(distribution.epoch, 7);
        assert_eq!(distribution.entries.len(), 2);
        let envelope = seal(
            b"live position",
            &ctx(b"k1"),
            &channel.sealing_epoch(owner().as_public_key())?,
        )?;
        for (id, private) in [("insurer", grantee()), ("dealer", outsider())] {
            let recovered = distribution.recover(id, private)?;
            assert_eq!(recovered.epoch(), 7);
            assert_eq!(recovered.key().as_bytes(), channel.key().as_bytes());
            assert_eq!(
                envelope.open_with_epoch_key(&ctx(b"k1"), recovered.key())?,
                b"live position"
            );
        }
        // The owner still reads through the envelope's own wrapped key.
        let mut cache = crate::crypto::EpochKeyCache::new();
        assert_eq!(
            envelope.open_with_owner_key(&ctx(b"k1"), owner(), &mut cache)?,
            b"live position"
        );
        Ok(())
    }

    #[test]
    fn a_removed_subscriber_cannot_open_records_sealed_after_rotation() -> CryptoResult<()> {
        let first = ChannelKey::generate(0)?;
        let dealer_old = first
            .distribute(&subscribers())?
            .recover("dealer", outsider())?;

        // The dealer is removed: rotate and distribute only to the insurer.
        let second = first.rotate()?;
        assert_eq!(second.epoch(), 1);
        assert_ne!(second.key().as_bytes(), first.key().as_bytes());
        let remaining = vec![("insurer".to_owned(), grantee().to_public_key())];
        let distribution = second.distribute(&remaining)?;
        let after = seal(
            b"after removal",
            &ctx(b"k2"),
            &second.sealing_epoch(owner().as_public_key())?,
        )?
        .to_bytes()?;
        let after = Envelope::from_bytes(&after)?;

        assert_eq!(
            distribution.recover("dealer", outsider()).err(),
            Some(CryptoError::NotASubscriber("dealer".to_owned()))
        );
        assert_eq!(
            distribution.recover("insurer", outsider()).err(),
            Some(CryptoError::WrongKey)
        );
        assert_eq!(
            after
                .open_with_epoch_key(&ctx(b"k2"), dealer_old.key())
                .err(),
            Some(CryptoError::AuthenticationFailed)
        );
        let insurer = distribution.recover("insurer", grantee())?;
        assert_eq!(
            after.open_with_epoch_key(&ctx(b"k2"), insurer.key())?,
            b"after removal"
        );
        Ok(())
    }

    #[test]
    fn duplicate_subscriber_ids_are_refused() -> CryptoResult<()> {
        let doubled = vec![
            ("insurer".to_owned(), grantee().to_public_key()),
            ("insurer".to_owned(), outsider().to_public_key()),
        ];
        assert_eq!(
            ChannelKey::generate(1)?.distribute(&doubled).err(),
            Some(CryptoError::DuplicateSubscriber("insurer".to_owned()))
        );
        Ok(())
    }

    #[test]
    fn rotation_stops_at_the_last_epoch() {
        let last = ChannelKey::from_parts(u32::MAX, EpochKey::from_bytes([1; 32]));
        assert_eq!(last.rotate().err(), Some(CryptoError::EpochOverflow));
    }

    #[test]
    fn debug_does_not_show_the_channel_key() {
        let channel = ChannelKey::from_parts(3, EpochKey::from_bytes([0x66; 32]));
        let debug = format!("{channel:?}");
        assert!(debug.contains("epoch: 3") && debug.contains("<redacted>"));
        assert!(!debug.contains("102") && !debug.contains("6666"));
    }
}
