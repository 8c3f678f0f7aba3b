// CarChain owner keys through the Swift bindings: the same vectors as the Rust and
// Kotlin tests.
import CarChain
import Foundation
import XCTest

let abandon =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

final class KeysTests: XCTestCase {
    func testRestoresTheOwnerAddressOfTheRustVector() throws {
        let main = try restoreKeys(words: abandon, passphrase: "", network: .mainnet)
        XCTAssertEqual(main.ownerAddress(), "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu")
        XCTAssertEqual(
            main.rsaFingerprint(),
            "bc5f41fa1db34beeece34c2073f67b817176909db41126b0398bb3d5487d075a")
        let regtest = try restoreKeys(words: abandon, passphrase: "", network: .regtest)
        XCTAssertEqual(regtest.ownerAddress(), "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk")
    }

    func testSignsWith64ByteSignatures() throws {
        let keys = try restoreKeys(words: abandon, passphrase: "", network: .regtest)
        let first = keys.signMessage(message: Data("setup LBVNU79049SB81546".utf8))
        let second = keys.signMessage(message: Data("setup LBVNU79049SB81547".utf8))
        XCTAssertEqual(first.count, 64)
        XCTAssertNotEqual(first, second)
    }

    func testWrongMnemonicIsATypedErrorWithItsCode() {
        let badChecksum = abandon.replacingOccurrences(of: "about", with: "abandon")
        XCTAssertThrowsError(try restoreKeys(words: badChecksum, passphrase: "", network: .mainnet)) {
            error in
            guard case CarChainError.InvalidMnemonic(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "key.bad_checksum")
        }
        let unknown = abandon.replacingOccurrences(of: "about", with: "zzzsecret")
        XCTAssertThrowsError(try restoreKeys(words: unknown, passphrase: "", network: .mainnet)) {
            error in
            guard case CarChainError.InvalidMnemonic(let code, let detail) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "key.unknown_word")
            XCTAssertFalse(detail.contains("zzzsecret"))
        }
    }

    func testGeneratedWordsRestore() throws {
        let words = try generateWords(count: 24)
        XCTAssertEqual(words.split(separator: " ").count, 24)
        let keys = try restoreKeys(words: words, passphrase: "", network: .testnet)
        XCTAssertTrue(keys.ownerAddress().hasPrefix("tb1q"))
        XCTAssertThrowsError(try generateWords(count: 13)) { error in
            guard case CarChainError.InvalidInput(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "key.invalid_word_count")
        }
    }

    func testDayAddressIsStableAndChecksItsDate() throws {
        let keys = try restoreKeys(words: abandon, passphrase: "", network: .regtest)
        let day = try keys.dayAddress(
            vid: "LBVNU79049SB81546", generation: 0, poolSize: 32, date: "2016-05-11")
        XCTAssertTrue(day.hasPrefix("bcrt1q"))
        XCTAssertEqual(
            day,
            try keys.dayAddress(
                vid: "LBVNU79049SB81546", generation: 0, poolSize: 32, date: "2016-05-11"))
        XCTAssertThrowsError(
            try keys.dayAddress(
                vid: "LBVNU79049SB81546", generation: 0, poolSize: 32, date: "11/05/2016")
        ) { error in
            guard case CarChainError.InvalidInput(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "pool.invalid_date")
        }
    }
}
