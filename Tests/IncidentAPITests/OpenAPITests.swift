import Foundation
import XCTest

@testable import IncidentAPI

/// docs/api/openapi.json is the contract: it must be a valid-looking OpenAPI 3.1 document that
/// documents exactly the routes the router serves, and the node must serve its bytes.
final class OpenAPITests: XCTestCase {
    static let documentPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/api/openapi.json").path

    func testTheDocumentCoversEveryRouteAndNothingElse() async throws {
        let bytes = try APISettings.readOpenAPIDocument(at: Self.documentPath)
        let document = try JSONValue.parse(bytes)
        XCTAssertTrue(document["openapi"]?.string?.hasPrefix("3.1") ?? false)
        var documented: Set<RouteDescriptor> = []
        for path in document["paths"]?.keys ?? [] {
            for method in document["paths"]?[path]?.keys ?? [] {
                documented.insert(RouteDescriptor(method: method.uppercased(), path: path))
            }
        }
        let harness = try await APIHarness.start()
        let served = Set(harness.routes)
        await harness.shutdown()
        XCTAssertEqual(served.subtracting(documented).sorted { $0.description < $1.description }, [], "served but not documented")
        XCTAssertEqual(documented.subtracting(served).sorted { $0.description < $1.description }, [], "documented but not served")
        XCTAssertEqual(served.count, harness.routes.count, "no route registered twice")

        // Every $ref points at something that exists.
        let text = String(decoding: bytes, as: UTF8.self)
        let components = document["components"]
        for match in text.matches(of: /"\$ref": "#\/components\/(\w+)\/(\w+)"/) {
            XCTAssertNotNil(components?[String(match.1)]?[String(match.2)], "dangling \(match.0)")
        }
    }

    func testTheNodeServesTheFileItWasGiven() async throws {
        let bytes = try APISettings.readOpenAPIDocument(at: Self.documentPath)
        try await withAPI({ $0.openAPIDocument = bytes }) { client, _ in
            let response = try await client.get("/api/v1/openapi.json", as: nil)
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.bytes, bytes)
        }
        XCTAssertThrowsError(try APISettings.readOpenAPIDocument(at: "/nonexistent/openapi.json"))
    }
}
