// A provider's grant webhook through the Swift bindings, against a real carchain-node: a
// provider not on the ledger is refused (webhook.not_found); registered, it registers a
// receiver on 127.0.0.1 (a small socket server here), the owner approves its request and
// the receiver gets the `grant` notice, signed: verifyWebhook accepts it under the
// secret registerWebhook returned and refuses a changed body or another secret; the
// owner revokes and a `revoked` notice follows. The provider reads its hook (URL,
// creation height, counts, no secret) and deletes it; bad URLs and repeated calls are
// refused with their codes.
import CarChain
import Foundation
import XCTest
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-route HTTP receiver on 127.0.0.1: answers every request 200 and keeps its body
/// and `x-carchain-signature` header.
final class LoopbackReceiver: @unchecked Sendable {
    private(set) var port: UInt16 = 0
    private let listener: Int32
    private let lock = NSLock()
    private var got: [(body: Data, signature: String)] = []

    init() throws {
        #if canImport(Glibc)
            listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            listener = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard listener >= 0 else { throw NSError(domain: "LoopbackReceiver", code: 1) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Int32 in
                guard bind(listener, sa, length) == 0, listen(listener, 16) == 0 else { return -1 }
                return getsockname(listener, sa, &length)
            }
        }
        guard bound == 0 else {
            close(listener)
            throw NSError(domain: "LoopbackReceiver", code: 2)
        }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    var notices: [(body: Data, signature: String)] {
        lock.lock()
        defer { lock.unlock() }
        return got
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            handle(client)
            close(client)
        }
    }

    private func readSome(_ client: Int32, into data: inout Data) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(client, &buffer, buffer.count)
        if count <= 0 { return false }
        data.append(contentsOf: buffer[0..<count])
        return true
    }

    private func handle(_ client: Int32) {
        var data = Data()
        let separator = Data("\r\n\r\n".utf8)
        var headerEnd: Range<Data.Index>?
        while headerEnd == nil {
            guard readSome(client, into: &data) else { return }
            headerEnd = data.range(of: separator)
        }
        guard let end = headerEnd else { return }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
        var length = 0
        var signature = ""
        for line in head.components(separatedBy: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0].lowercased() {
            case "content-length": length = Int(parts[1]) ?? 0
            case "x-carchain-signature": signature = parts[1]
            default: break
            }
        }
        while data.count - end.upperBound < length {
            guard readSome(client, into: &data) else { return }
        }
        let body = Data(data[end.upperBound..<(end.upperBound + length)])
        lock.lock()
        got.append((body, signature))
        lock.unlock()
        let answer = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        _ = answer.withUnsafeBytes { write(client, $0.baseAddress, answer.count) }
    }
}

/// The code of a `CarChainError.Refused`, nil for anything else.
func refusedCode(_ error: CarChainError?) -> String? {
    if case .Refused(let code, _) = error { return code }
    return nil
}

final class WebhooksTests: XCTestCase {
    func testAProviderIsNotifiedOfItsGrantAndRevocationAndManagesItsHook() async throws {
        let dir = try scratchDir("hooks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let vid = "VIN-SWIFT-WEBHOOKS"
        let wallet = try restoreWallet(in: dir)
        let insurer = try ServiceProvider.fromSeed(seed: Data(repeating: 0x49, count: 64), network: .regtest)
        let node = try TestNode.start(funds: [(wallet.ownerAddress(), 1_000_000), (insurer.address(), 1_000_000)])
        defer { node.stop() }
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let light = try await syncedLightClient(of: node)
        let ledger = try GrantsLedger(light: light, endpoints: [node.base])

        // Not a provider on the ledger yet: refused.
        let early = await carChainError { _ = try await insurer.registerWebhook(nodeUrl: node.base, url: receiver.url) }
        XCTAssertEqual(refusedCode(early), "webhook.not_found")
        try await insurer.register(ledger: ledger, name: "Insurer", description: "pay as you drive", codeHashes: [])
        let secret = try await insurer.registerWebhook(nodeUrl: node.base, url: receiver.url)
        XCTAssertEqual(secret.count, 64)
        for (url, code) in [
            ("ftp://127.0.0.1/hook", "webhook.webhook_url_scheme"),
            ("\(node.base)/v1/tx", "webhook.webhook_url_self"),
        ] {
            let refused = await carChainError { _ = try await insurer.registerWebhook(nodeUrl: node.base, url: url) }
            XCTAssertEqual(refusedCode(refused), code, url)
        }

        // The owner's car drives day 1; the insurer asks for it and the owner approves.
        let car = try await pairCar(wallet, light: light, dir: dir, vid: vid, name: "Car", poolSize: 8)
        try await drive(car, days: [1], light: light)
        let requestId = try await insurer.request(ledger: ledger, spec: tripRequest(
            owner: wallet.ownerAddress(), toDate: "2024-05-01", purpose: "a quote"))
        let approval = try await wallet.approveAsOf(
            ledger: ledger, requestId: requestId, vid: vid, narrowing: Narrowing(), today: "2024-05-02")

        /// Waits for the notice of `event` on the approved grant, checking every notice:
        /// signed under the secret, only id, event, grant_id and height, nothing personal.
        func awaitNotice(_ event: String) async throws -> Data {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                for notice in receiver.notices {
                    XCTAssertTrue(verifyWebhook(secretHex: secret, body: notice.body, signature: notice.signature))
                    var changed = notice.body
                    changed.append(0x20)
                    XCTAssertFalse(verifyWebhook(secretHex: secret, body: changed, signature: notice.signature))
                    XCTAssertFalse(verifyWebhook(
                        secretHex: String(repeating: "0", count: 64), body: notice.body, signature: notice.signature))
                    let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: notice.body) as? [String: Any])
                    XCTAssertEqual(Set(json.keys), ["id", "event", "grant_id", "height"])
                    let text = String(decoding: notice.body, as: UTF8.self)
                    XCTAssertFalse(text.contains(wallet.ownerAddress()) || text.contains(vid) || text.contains(insurer.address()))
                    if json["event"] as? String == event, json["grant_id"] as? String == approval.grantId {
                        return notice.body
                    }
                }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            XCTFail("no \(event) notice for \(approval.grantId)")
            return Data()
        }
        _ = try await awaitNotice("grant")
        try await wallet.revoke(ledger: ledger, grantId: approval.grantId)
        _ = try await awaitNotice("revoked")

        // The insurer's own view of its hook, then its delete.
        var state = try await insurer.webhookState(nodeUrl: node.base)
        for _ in 0..<50 where state.delivered < 2 {
            try await Task.sleep(nanoseconds: 100_000_000)
            state = try await insurer.webhookState(nodeUrl: node.base)
        }
        XCTAssertEqual(state.provider, insurer.address())
        XCTAssertEqual(state.url, receiver.url)
        XCTAssertGreaterThan(state.createdHeight, 0)
        XCTAssertEqual(state.delivered, 2)
        XCTAssertEqual(state.failed, 0)
        XCTAssertNil(state.lastError)
        XCTAssertFalse("\(state)".contains(secret))
        try await insurer.deleteWebhook(nodeUrl: node.base)
        let gone = await carChainError { _ = try await insurer.webhookState(nodeUrl: node.base) }
        XCTAssertEqual(refusedCode(gone), "webhook.not_found")
        let again = await carChainError { try await insurer.deleteWebhook(nodeUrl: node.base) }
        XCTAssertEqual(refusedCode(again), "webhook.not_found")
    }
}
