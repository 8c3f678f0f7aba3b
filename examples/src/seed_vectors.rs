//! The example records and wallet words the CarChain design starts from.

/// The standard BIP39 test words; their BIP84 first address is published.
pub const WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// The car of the seed's examples (its VIN doubles as the VID).
pub const VID: &str = "LBVNU79049SB81546";

/// The seed's trip key (`putIotKV`, format `trip-gps`).
pub const TRIP_KEY: &str =
    r#"{"SESSION_ID":1, "START_TIME":20160511071428, "END_TIME":20160511094623}"#;

/// The seed's trip value, verbatim — including its `"format"="trip-gps"`.
pub const TRIP_VALUE: &str = r#"{"len":10,"GPS":[{"lat":31.250885,"lng":121.44662},{"lat":31.251259,"lng":121.4456},{"lat":31.25419,"lng":121.485504},{"lat":31.268875,"lng":121.59015},{"lat":31.29777,"lng":121.61309},{"lat":31.298483,"lng":121.6138},{"lat":31.297743,"lng":121.614525},{"lat":31.194258,"lng":121.74957},{"lat":31.195974,"lng":121.75078},{"lat":31.115866,"lng":121.77829}],"SPEED":"0,23,52,45,51,33,49,49,48,37","VEHICLE_DATA":1,"format"="trip-gps"}"#;

/// The seed's parking-violation record (`putIotKV`, format `carvio`).
pub const CARVIO_KEY: &str = r#"{"CARVIO_ID":1}"#;
/// Its value.
pub const CARVIO_VALUE: &str = r#"{"format":"carvio", "VEHICLE_DATA":1, "datetime":20180310,"loc":{"lat":31.250885,"lng":121.44662},"viotype":"vioparking","price":200,"point":0}"#;

/// The seed's wallet record (`putWalKV`, format `VIN_CODE`).
pub const VIN_KEY: &str = r#"{"VEHICLE_DATA":1}"#;
/// Its value.
pub const VIN_VALUE: &str = r#"{"VIN":"LBVNU79049SB81546"}"#;
/// The day the vectors file the VIN record under (the day of the seed's trip).
pub const VIN_DAY: (i32, u32, u32) = (2016, 5, 11);
/// The range-ordered key of the seed's VIN record put from the wallet (an owner record,
/// version 1, filed under [`VIN_DAY`]): VEHICLE_DATA 1, DAY 20160511, VERSION 1.
pub const VIN_OWNER_KEY_HEX: &str = "108000000000000001108000000001339fff108000000000000001";

#[cfg(test)]
mod tests {
    use carchain_core::record::{encode_key, parse_value};
    use carchain_core::wallet::{owner_format, owner_key, versioned_spec};
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn the_seeds_vin_record_is_an_owner_record_vector() {
        let format = owner_format("VIN_CODE", None).expect("built in");
        let (y, m, d) = VIN_DAY;
        let date = NaiveDate::from_ymd_opt(y, m, d).expect("day");
        let key = owner_key(&parse_value(VIN_KEY).expect("key"), date, Some(1)).expect("key");
        let encoded = encode_key(&versioned_spec(&format).expect("spec"), &key).expect("encode");
        assert_eq!(encoded.to_hex(), VIN_OWNER_KEY_HEX);
        assert!(parse_value(VIN_VALUE).expect("value").is_object());
    }
}
