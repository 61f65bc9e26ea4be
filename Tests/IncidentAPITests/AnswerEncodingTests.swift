import XCTest

@testable import IncidentAPI
@testable import IncidentCore

/// The ingest answer is written without a JSON tree (`EventJSON.write`, `Endpoints.ingestBody`):
/// byte for byte what the tree (`EventJSON.result`) encodes, escapes included.
final class AnswerEncodingTests: XCTestCase {
    private static let results: [EventResult] = [
        EventResult(eventID: "evt-1", incident: IncidentID(number: 1, day: 20_000), fingerprint: .key("d1"), disposition: .created),
        EventResult(eventID: nil, incident: IncidentID(number: 1_234_567, day: 20_419), fingerprint: .hash(0xDEAD_BEEF), disposition: .deduplicated),
        EventResult(eventID: #"a "quoted"\ id"#, incident: nil, fingerprint: .key("tab\there\nline"), disposition: .ignored),
        EventResult(eventID: "\u{1}\u{1F}é✓", incident: IncidentID(number: 7, day: 0), fingerprint: .manual(7), disposition: .suppressed),
    ]

    func testEachResultIsWrittenAsTheTreeEncodesIt() {
        for result in Self.results {
            var writer = JSONWriter()
            EventJSON.write(result, to: &writer)
            XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), EventJSON.result(result).text, "\(result)")
        }
        for disposition in EventDisposition.allCases {
            let result = EventResult(eventID: "e", incident: IncidentID(number: 2, day: 1), fingerprint: .key("k"), disposition: disposition)
            var writer = JSONWriter()
            EventJSON.write(result, to: &writer)
            XCTAssertEqual(writer.bytes, EventJSON.result(result).bytes, "\(disposition)")
        }
    }

    func testTheIngestBodyIsOneResultOrAllOfThemUnderResults() throws {
        let one = Endpoints.ingestBody([Self.results[0]], isArray: false)
        XCTAssertEqual(one, EventJSON.result(Self.results[0]).bytes)
        let all = Endpoints.ingestBody(Self.results, isArray: true)
        XCTAssertEqual(all, JSONValue.object(["results": .array(Self.results.map(EventJSON.result))]).bytes)
        XCTAssertEqual(try JSONValue.parse(all), JSONValue.object(["results": .array(Self.results.map(EventJSON.result))]))
        XCTAssertEqual(Endpoints.ingestBody([], isArray: true), Array(#"{"results":[]}"#.utf8))
        XCTAssertEqual(Endpoints.ingestBody([], isArray: false), Array("{}".utf8))
    }

    func testTheWriterEscapesWhatJSONRequiresAndCopiesTheRest() throws {
        let cases: [(String, String)] = [
            ("", #""""#),
            ("plain text", #""plain text""#),
            (#"say "hi""#, #""say \"hi\"""#),
            (#"back\slash"#, #""back\\slash""#),
            ("\n\r\t", #""\n\r\t""#),
            ("\u{0}\u{8}\u{1F}", #""\u0000\u0008\u001f""#),
            ("é✓😀 and / stays", #""é✓😀 and / stays""#),
            ("\"", #""\"""#),
            ("end\\", #""end\\""#),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(JSONValue.string(input).text, expected, input.debugDescription)
            XCTAssertEqual(try JSONValue.parse(JSONValue.string(input).bytes), .string(input))
        }
    }

    func testEventIDsAreRandomHexAndDistinct() {
        var seen = Set<String>()
        for _ in 0..<2_000 {  // several refills of the pool
            let id = EventJSON.newEventID()
            XCTAssertTrue(id.hasPrefix("evt_"), id)
            XCTAssertEqual(id.utf8.count, 36, id)
            XCTAssertTrue(id.utf8.dropFirst(4).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }, id)
            seen.insert(id)
        }
        XCTAssertEqual(seen.count, 2_000)
        // Every hex digit shows up in every position over 2,000 ids (each misses with p ≈ 1e-56).
        for position in 4..<36 {
            let digits = Set(seen.map { Array($0.utf8)[position] })
            XCTAssertEqual(digits.count, 16, "position \(position)")
        }
    }
}
