// Trips and records through the Swift bindings: the seed document's trip.
import CarChain
import Foundation
import XCTest

let seedKey = #"{"SESSION_ID":1,"START_TIME":20160511071428,"END_TIME":20160511094623}"#
let seedValue =
    #"{"len":10,"GPS":[{"lat":31.250885,"lng":121.44662},{"lat":31.251259,"lng":121.4456},"#
    + #"{"lat":31.25419,"lng":121.485504},{"lat":31.268875,"lng":121.59015},"#
    + #"{"lat":31.29777,"lng":121.61309},{"lat":31.298483,"lng":121.6138},"#
    + #"{"lat":31.297743,"lng":121.614525},{"lat":31.194258,"lng":121.74957},"#
    + #"{"lat":31.195974,"lng":121.75078},{"lat":31.115866,"lng":121.77829}],"#
    + #""SPEED":"0,23,52,45,51,33,49,49,48,37","VEHICLE_DATA":1,"format"="trip-gps"}"#

final class TripTests: XCTestCase {
    func testDecodesTheSeedTripToPolylineAndGeoJson() throws {
        let track = try decodeTrip(keyJson: seedKey, valueJson: seedValue)
        XCTAssertEqual(track.polyline, "auv}Dk`gdViAjEiQkxFyzAamSqsDknCmCmCrCqCveS_kYuIqFrsN}jD")
        XCTAssertTrue(track.geojson.contains("\"LineString\""))
        XCTAssertEqual(track.summary.pointCount, 10)
        XCTAssertEqual(track.summary.durationS, 2 * 3600 + 31 * 60 + 55)
        XCTAssertEqual(track.summary.maxSpeedKmh, 52.0)
        XCTAssertEqual(track.summary.bbox.minLat, 31.115866)
        XCTAssertTrue((40_000.0...60_000.0).contains(track.summary.distanceM))
        XCTAssertFalse(track.packed.isEmpty)
    }

    func testBadTripIsATypedErrorWithItsCode() {
        XCTAssertThrowsError(try decodeTrip(keyJson: seedKey, valueJson: #"{"GPS":[]}"#)) { error in
            guard case CarChainError.InvalidRecord(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "trip.empty_track")
        }
        XCTAssertThrowsError(try decodeTrip(keyJson: "not json", valueJson: seedValue)) { error in
            guard case CarChainError.InvalidRecord(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "trip.key_not_json")
        }
    }

    func testRecordKeysEncodeToThePinnedHex() throws {
        let hex = try encodeKeyHex(format: "trip-gps", keyJson: seedKey)
        XCTAssertEqual(hex, "1080000000000000011080001255fc19d4c41080001255fc1a2f5f")
        // Decoded keys come back as JSON with the fields in name order.
        XCTAssertEqual(
            try decodeKeyHex(format: "trip-gps", keyHex: hex),
            #"{"END_TIME":20160511094623,"SESSION_ID":1,"START_TIME":20160511071428}"#)
        XCTAssertEqual(try parseValue(text: seedValue).format, "trip-gps")
        XCTAssertThrowsError(try encodeKeyHex(format: "nope", keyJson: seedKey)) { error in
            guard case CarChainError.InvalidRecord(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "record.unknown_format")
        }
    }
}
