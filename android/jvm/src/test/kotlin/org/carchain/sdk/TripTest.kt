// Trips and records through the Kotlin bindings: the seed document's trip.
package org.carchain.sdk

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

const val SEED_KEY = """{"SESSION_ID":1,"START_TIME":20160511071428,"END_TIME":20160511094623}"""
const val SEED_VALUE =
    """{"len":10,"GPS":[{"lat":31.250885,"lng":121.44662},{"lat":31.251259,"lng":121.4456},""" +
        """{"lat":31.25419,"lng":121.485504},{"lat":31.268875,"lng":121.59015},""" +
        """{"lat":31.29777,"lng":121.61309},{"lat":31.298483,"lng":121.6138},""" +
        """{"lat":31.297743,"lng":121.614525},{"lat":31.194258,"lng":121.74957},""" +
        """{"lat":31.195974,"lng":121.75078},{"lat":31.115866,"lng":121.77829}],""" +
        """"SPEED":"0,23,52,45,51,33,49,49,48,37","VEHICLE_DATA":1,"format"="trip-gps"}"""

class TripTest {
    @Test
    fun decodesTheSeedTripToPolylineAndGeoJson() {
        val track = decodeTrip(SEED_KEY, SEED_VALUE)
        assertEquals("auv}Dk`gdViAjEiQkxFyzAamSqsDknCmCmCrCqCveS_kYuIqFrsN}jD", track.polyline)
        assertTrue(track.geojson.contains("\"LineString\""))
        assertEquals(10u, track.summary.pointCount)
        assertEquals(2L * 3600 + 31 * 60 + 55, track.summary.durationS)
        assertEquals(52.0, track.summary.maxSpeedKmh)
        assertEquals(31.115866, track.summary.bbox.minLat)
        assertTrue(track.summary.distanceM in 40_000.0..60_000.0)
        assertTrue(track.packed.isNotEmpty())
    }

    @Test
    fun badTripIsATypedErrorWithItsCode() {
        val error = assertThrows<CarChainException.InvalidRecord> { decodeTrip(SEED_KEY, """{"GPS":[]}""") }
        assertEquals("trip.empty_track", error.code)
        val json = assertThrows<CarChainException.InvalidRecord> { decodeTrip("not json", SEED_VALUE) }
        assertEquals("trip.key_not_json", json.code)
    }

    @Test
    fun recordKeysEncodeToThePinnedHex() {
        val hex = encodeKeyHex("trip-gps", SEED_KEY)
        assertEquals("1080000000000000011080001255fc19d4c41080001255fc1a2f5f", hex)
        // Decoded keys come back as JSON with the fields in name order.
        assertEquals(
            """{"END_TIME":20160511094623,"SESSION_ID":1,"START_TIME":20160511071428}""",
            decodeKeyHex("trip-gps", hex),
        )
        assertEquals("trip-gps", parseValue(SEED_VALUE).format)
        val error = assertThrows<CarChainException.InvalidRecord> { encodeKeyHex("nope", SEED_KEY) }
        assertEquals("record.unknown_format", error.code)
    }
}
