//! The owner's wallet: identity, paired cars (the seed's device list), pairing, setDup and
//! reset, reading a car's records and trips back, and subscribers.
