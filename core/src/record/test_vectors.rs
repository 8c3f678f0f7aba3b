//! The seed's example records, verbatim, shared by this module's tests.

/// The seed's putIotKV trip value, verbatim (with its `"format"="trip-gps"`).
pub(crate) const SEED_TRIP_VALUE: &str = r#"{"len":10,"GPS":[{"lat":31.250885,"lng":121.44662},{"lat":31.251259,"lng":121.4456},{"lat":31.25419,"lng":121.485504},{"lat":31.268875,"lng":121.59015},{"lat":31.29777,"lng":121.61309},{"lat":31.298483,"lng":121.6138},{"lat":31.297743,"lng":121.614525},{"lat":31.194258,"lng":121.74957},{"lat":31.195974,"lng":121.75078},{"lat":31.115866,"lng":121.77829}],"SPEED":"0,23,52,45,51,33,49,49,48,37","VEHICLE_DATA":1,"format"="trip-gps"}"#;

/// The seed's putIotKV carvio value, verbatim.
pub(crate) const SEED_CARVIO_VALUE: &str = r#"{"format":"carvio", "VEHICLE_DATA":1, "datetime":20180310,"loc":{"lat":31.250885,"lng":121.44662},"viotype":"vioparking","price":200,"point":0}"#;

/// The seed's putWalKV VIN value (the seed's text lacks its closing brace).
pub(crate) const SEED_VIN_VALUE: &str = r#"{"VIN":"LBVNU79049SB81546"}"#;
