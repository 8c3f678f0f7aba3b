//! The car's write credentials for its private agent node: anonymous tokens
//! ([`crate::tokens`], RFC 9474 blind RSA) the node signs blindly for the car, kept
//! sealed in the car's store, one bound to each pool address on first use.
//!
//! Issuance is authenticated: the car asks with its VID and a device-key signature over
//! the blinded messages (`POST /v1/credentials`, [`crate::protocol::credential_request`]),
//! so only the node's paired cars get credentials. Spending is anonymous: a put shows
//! the unblinded token, which the node cannot tie to any issuance. The car asks for
//! [`CREDENTIAL_BATCH`] at a time when fewer than [`CREDENTIAL_LOW_WATER`] are left,
//! at the start of a flush and on its own request, never on an address's connection;
//! after a refill the first address waits a random pause like the others, so the
//! request that names the car is not followed at once by an address.
//! A shared node issues none and checks none: nothing is shown there.

use super::car_device::CarDevice;
use super::error::DeviceError;
use crate::light::write_credentials::CredentialHolder;
use crate::light::{LightClient, WriteCredential};
use crate::tokens::IssuerPublicKey;

/// Credentials asked for at a time.
pub const CREDENTIAL_BATCH: usize = 32;
/// Below this many unused credentials, a flush asks for more first.
pub const CREDENTIAL_LOW_WATER: u64 = 8;

/// What one flush shows a node: nothing on a shared node, credentials of the issuer key
/// `key_id` on a private one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Showing {
    /// A shared node: no credential.
    Nothing,
    /// A private node: credentials of this issuer key.
    Credentials {
        /// The issuer key's id (hex).
        key_id: String,
        /// Whether this flush just asked for credentials (the request names the car):
        /// the first address then waits a random pause too.
        refilled: bool,
    },
}

impl CarDevice {
    /// What this flush shows, refilling the car's credentials from a private node first
    /// when few are left. A refill the node refuses (quota) is not an error: the puts
    /// of an address without a credential are reported refused.
    pub(super) async fn prepare_credentials(
        &self,
        light: &LightClient,
    ) -> Result<Showing, DeviceError> {
        if light.status().await?.mode != "private" {
            return Ok(Showing::Nothing);
        }
        let public = light.credential_issuer().await?;
        let key_id = public.key_id().to_string();
        let mut refilled = false;
        if self.store()?.fresh_credentials(&key_id)? < CREDENTIAL_LOW_WATER {
            match self.refill(light, &public).await {
                Ok(()) => refilled = true,
                Err(DeviceError::Light(e)) if e.node_code().is_some() && !e.is_failover() => {
                    tracing::warn!(code = e.node_code(), "write credentials not refilled");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Showing::Credentials { key_id, refilled })
    }

    /// Asks the node for [`CREDENTIAL_BATCH`] credentials and keeps them.
    async fn refill(
        &self,
        light: &LightClient,
        public: &IssuerPublicKey,
    ) -> Result<(), DeviceError> {
        let agent = self
            .store()?
            .offer()?
            .ok_or(DeviceError::NotPaired)?
            .agent
            .clone();
        let holder = CredentialHolder::Device {
            vid: self.vid(),
            device_key: self.device_secret(),
        };
        let issued = light
            .obtain_credentials(public, &agent, holder, CREDENTIAL_BATCH)
            .await?;
        self.store()?
            .add_credentials(&issued.key_id, &issued.tokens)?;
        Ok(())
    }

    /// The credential to show with `address`'s records: the one bound to it, else a
    /// fresh one bound now; `None` on a shared node or when none is left.
    pub(super) fn credential_for(
        &self,
        showing: &Showing,
        address: &str,
    ) -> Result<Option<(i64, WriteCredential)>, DeviceError> {
        let Showing::Credentials { key_id, .. } = showing else {
            return Ok(None);
        };
        Ok(self
            .store()?
            .credential_for(key_id, address)?
            .map(|(id, bytes)| (id, WriteCredential(bytes.to_vec()))))
    }
}
