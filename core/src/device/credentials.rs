//! The car's write credentials for private nodes: anonymous tokens its agent node signs
//! blindly, one bound to each pool address on first use.

use super::car_device::CarDevice;
use super::error::DeviceError;
use crate::light::{LightClient, WriteCredential};

impl CarDevice {
    /// The write credential to show with `address`'s records, `None` for a shared node.
    pub(super) async fn credential_for(
        &self,
        _light: &LightClient,
        _address: &str,
    ) -> Result<Option<WriteCredential>, DeviceError> {
        Ok(None)
    }
}
