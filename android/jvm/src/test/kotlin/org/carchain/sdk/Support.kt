// What the scenario tests share: the owner's wallet restored from the "abandon … about"
// words, a light client anchored to a TestNode, a car paired to the wallet, days of trips
// delivered, and a provider's request for trips.
// The README's "Use from Kotlin" example is these helpers' calls (keep them in sync).
package org.carchain.sdk

import java.io.File
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay

/** The owner's wallet restored from [ABANDON_WORDS] (and [passphrase]) into `dir/file`,
 *  its secrets in memory (the Keystore's stand-in). */
fun restoreWallet(dir: File, file: String = "wallet.db", passphrase: String = ""): Wallet =
    Wallet.restore("$dir/$file", MemorySecretStore(), Network.REGTEST, ABANDON_WORDS, passphrase)

/** A light client of [node], anchored to its validator key in the text form init prints. */
fun lightClient(node: TestNode): LightClient =
    LightClient(listOf(node.base), TestNode.CHAIN_ID, Network.REGTEST, node.validatorPubkey)

/** A light client of [node], synced to its tip. */
suspend fun syncedLightClient(node: TestNode): LightClient = lightClient(node).also { it.sync(ProgressLog()) }

/** Opens the car [vid] in `dir/car.db` and pairs it to [wallet]: the car shows its payload,
 *  the owner pairs while the car answers; returns once the car is paired. */
suspend fun pairCar(wallet: Wallet, light: LightClient, dir: File, vid: String, name: String, poolSize: UInt): CarDevice {
    val car = CarDevice.open("$dir/car.db", MemorySecretStore(), vid)
    val payload = car.pairingPayload(600u)
    coroutineScope {
        val owner = async { wallet.pairDevice(light, payload, name, poolSize, TestNode.AGENT) }
        while (!car.completePairing(light)) delay(100)
        owner.await()
    }
    while (!car.isPaired(light)) delay(100)
    return car
}

/** Queues on [car] the trip of each of [days] (2024-05-<day>, session number = day). */
fun putTrips(car: CarDevice, vararg days: Int) {
    for (day in days) {
        val (key, value) = tripJson(day, day)
        car.putTrip(key, value, "2024-05-%02d".format(day))
    }
}

/** Queues the trips of [days] on [car] and delivers them to the network. */
suspend fun drive(car: CarDevice, light: LightClient, vararg days: Int): FlushReport {
    putTrips(car, *days)
    return car.flush(light)
}

/** A request for the trip-gps records of 2024-05-01 through [toDate], with location history. */
fun tripRequest(
    owner: String,
    toDate: String,
    purpose: String,
    price: ULong = 0uL,
    computation: String? = null,
    expiresAtMs: ULong? = null,
) = DataRequestSpec(
    ownerAddress = owner,
    formats = listOf("trip-gps"),
    fromDate = "2024-05-01",
    toDate = toDate,
    privileges = listOf(Privilege.LOCATION_HISTORY),
    computation = computation,
    purpose = purpose,
    price = price,
    expiresAtMs = expiresAtMs,
)
