import ClusterNode
import IncidentCore
import XCTest

@testable import IncidentAPI

/// SHA-256 of key secrets, secret generation, provisioning, and the time text forms.
final class PrimitiveTests: XCTestCase {
    func testSHA256MatchesTheNISTVectors() {
        XCTAssertEqual(SecretDigest.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SecretDigest.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SecretDigest.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SecretDigest.hex(String(repeating: "a", count: 1_000_000)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testGeneratedSecretsAreLongRandomAndStoredOnlyAsTheirHash() {
        let secrets = (0..<100).map { _ in APIKeySecret.generate() }
        XCTAssertEqual(Set(secrets).count, 100)
        XCTAssertTrue(secrets.allSatisfy { $0.hasPrefix("imk_") && $0.count == 44 })
        let hash = APIKeySecret.hash(secrets[0])
        XCTAssertNoThrow(try APIKey(id: "k", name: "k", role: .viewer, secretHash: hash).validate(), "the hash is what IncidentCore expects")
    }

    func testProvisioningCreatesThenRotatesOnlyWhenSomethingChanged() async throws {
        let harness = try await APIHarness.start()
        let created = try await provisionAPIKey(on: harness.node, id: "bootstrap", name: "bootstrap", role: .admin, secret: "one")
        let unchanged = try await provisionAPIKey(on: harness.node, id: "bootstrap", name: "bootstrap", role: .admin, secret: "one")
        let rotated = try await provisionAPIKey(on: harness.node, id: "bootstrap", name: "bootstrap", role: .admin, secret: "two")
        XCTAssertEqual([created, unchanged, rotated], [true, false, true])
        let key = try await harness.node.read { $0.state.machine.apiKey(secretHash: APIKeySecret.hash("two")) }
        XCTAssertEqual(key?.id, "bootstrap")
        let old = try await harness.node.read { $0.state.machine.apiKey(secretHash: APIKeySecret.hash("one")) }
        XCTAssertNil(old)
        await harness.shutdown()
    }

    func testInstantsParseRFC3339AndPagerDutysBasicOffsets() {
        func ms(_ text: String) -> Int64? { TimeText.instant(text)?.millisecondsSinceEpoch }
        XCTAssertEqual(ms("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(ms("1970-01-01T00:00:01.5Z"), 1_500)
        XCTAssertEqual(ms("1970-01-01T01:00:00+01:00"), 0)
        XCTAssertEqual(ms("1970-01-01T01:00:00+0100"), 0)
        XCTAssertEqual(ms("1969-12-31T23:00:00-01:00"), 0)
        XCTAssertEqual(ms("2015-07-17T08:42:58.315+0000"), 1_437_122_578_315)
        XCTAssertEqual(ms("0001-01-01T00:00:00Z"), -62_135_596_800_000)
        XCTAssertEqual(ms("2026-11-25T06:04:00.123456789Z").map { $0 % 1_000 }, 123)
        for bad in ["", "2026-11-25", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-25T25:00:00Z", "2026-11-25T06:04:00", "2026-11-25T06:04:00Zjunk", "2026-11-25T06:04:00+1"] {
            XCTAssertNil(TimeText.instant(bad), bad)
        }
        XCTAssertEqual(TimeText.instant("2026-11-25T06:04:00Z")?.rfc3339, "2026-11-25T06:04:00.000Z")
    }

    func testDurations() {
        XCTAssertEqual(TimeText.duration("90s"), 90_000)
        XCTAssertEqual(TimeText.duration("1h30m"), 5_400_000)
        XCTAssertEqual(TimeText.duration("2d"), 172_800_000)
        XCTAssertEqual(TimeText.duration("250ms"), 250)
        for bad in ["", "5", "m", "5x", "-5m", "1h 30m", "999999999999d"] { XCTAssertNil(TimeText.duration(bad), bad) }
        XCTAssertEqual(TimeText.durationText(5_400_000), "1h30m")
        XCTAssertEqual(TimeText.durationText(300_000), "5m")
        XCTAssertEqual(TimeText.durationText(1_500), "1500ms")
        XCTAssertEqual(TimeText.durationText(90_061_000), "1d1h1m1s")
    }

    func testJSONRoundTripsAndEscapes() throws {
        let text = #"{"a":[1,2.5,true,null,"x\"y\\z\n\u0001é"],"b":{}}"#
        let value = try JSONValue.parse(Array(text.utf8))
        XCTAssertEqual(try JSONValue.parse(value.bytes), value)
        XCTAssertEqual(JSONValue.string("\u{1}").text, #""\u0001""#)
        XCTAssertEqual(JSONValue.double(.nan).text, "null")
        XCTAssertEqual(JSONValue.double(2.0).text, "2")
    }
}

/// Settings checks and hostile numbers.
final class SettingsTests: XCTestCase {
    func testSettingsValidation() {
        XCTAssertNoThrow(try APISettings(version: "1").validate())
        var zeroRate = APISettings(version: "1")
        zeroRate.rateLimitRequestsPerSecond = 0
        XCTAssertThrowsError(try zeroRate.validate())
        var hugeBody = APISettings(version: "1")
        hugeBody.maxBodyBytes = 1 << 30
        XCTAssertThrowsError(try hugeBody.validate())
        var tooManyEvents = APISettings(version: "1")
        tooManyEvents.maxEventsPerRequest = 5_000
        XCTAssertThrowsError(try tooManyEvents.validate())
        XCTAssertThrowsError(try APISettings(version: "").validate())
    }

    func testExtremeNumbersAreRefusedNotCarriedIntoState() async throws {
        try await withAPI { client, harness in
            let farFuture = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","title":"t","timestamp":9223372036854775807}"#)
            XCTAssertEqual(farFuture.errorField, "timestamp")
            let hugeDouble = try await client.post("/api/v1/classification-rules", as: .admin, #"{"name":"x","position":1e300,"set_severity":"P1"}"#)
            XCTAssertEqual(hugeDouble.errorField, "position")
            let hugeLimit = try await client.get("/api/v1/incidents?limit=99999999999999999999", as: .viewer)
            XCTAssertEqual(hugeLimit.errorField, "limit")
            let hugeSince = try await client.get("/api/v1/analytics/metrics?since=-9223372036854775808", as: .viewer)
            XCTAssertEqual(hugeSince.errorField, "since")
            let count = try await harness.node.read { $0.state.machine.incidentCount }
            XCTAssertEqual(count, 0)
        }
    }
}
