import IncidentCore
import XCTest

@testable import Notifier

/// Channel templates: `{{field}}` placeholders filled from the incident and notification.
final class TemplateTests: XCTestCase {
    private func render(_ template: String, kind: NotificationKind = .escalated, dashboard: String = Fixture.dashboard) -> String {
        var notification = Fixture.notification(Fixture.channel(.webhook, url: "http://x", template: template), kind: kind)
        notification.intent.level = 1
        return MessageContext(notification, dashboardBaseURL: dashboard, sentAt: Fixture.sentAt).message
    }

    func testIncidentAndNotificationFields() {
        XCTAssertEqual(
            render("{{incident.severity}} {{incident.title}} [{{incident.id}}] {{incident.status}} team={{incident.team}} ({{notification.kind}} L{{notification.level}})"),
            "P1 Model latency above SLO [INC-20260301-000042] new team=ml-platform (escalated L1)")
        XCTAssertEqual(render("{{ incident.url }}"), "https://incidents.example.com/incidents/INC-20260301-000042")
        XCTAssertEqual(render("{{incident.url}}", dashboard: ""), "")
        XCTAssertEqual(render("{{incident.occurrences}}x since {{incident.created_at}}"), "3x since 2026-03-01T12:00:00.000Z")
    }

    func testLabelsAndUnknownFields() {
        XCTAssertEqual(render("{{incident.labels.region}}/{{incident.labels.model}}"), "eu-west-1/gpt-4o")
        XCTAssertEqual(render("a{{incident.labels.missing}}b{{incident.nope}}c{{}}d"), "abcd")
    }

    func testUnterminatedPlaceholderIsLiteral() {
        XCTAssertEqual(render("cost {{ 5 and {{incident.severity"), "cost {{ 5 and {{incident.severity")
        XCTAssertEqual(render("{{incident.severity}} {{x"), "P1 {{x")
    }

    func testEmptyTemplateMeansTheDefaultHeadline() {
        XCTAssertEqual(render(""), "[P1] Escalated to level 2: Model latency above SLO")
        XCTAssertEqual(render("", kind: .resolved), "[P1] Resolved: Model latency above SLO")
    }

    func testOutputIsBounded() {
        let template = String(repeating: "{{incident.description}}", count: 2_000)
        XCTAssertEqual(render(template).utf8.count <= MessageTemplate.maxRenderedBytes, true)
    }

    func testTemplateReachesTheWebhookMessage() throws {
        let notification = Fixture.notification(Fixture.channel(.webhook, url: "http://x", template: "{{incident.team}} paged"))
        let context = MessageContext(notification, dashboardBaseURL: "", sentAt: Fixture.sentAt)
        let body = try jsonObject(WebhookPayload.document(context).serialized())
        XCTAssertEqual(body["message"] as? String, "ml-platform paged")
    }
}

/// MIME pieces of the email.
final class MIMEEncodingTests: XCTestCase {
    func testQuotedPrintable() {
        XCTAssertEqual(MIMEEncoding.quotedPrintable("a=b über\ntrailing "), "a=3Db =C3=BCber\r\ntrailing=20")
        let long = MIMEEncoding.quotedPrintable(String(repeating: "x", count: 200))
        XCTAssertTrue(long.components(separatedBy: "\r\n").allSatisfy { $0.count <= 76 })
        XCTAssertEqual(long.replacingOccurrences(of: "=\r\n", with: ""), String(repeating: "x", count: 200))
    }

    func testBase64AndDates() {
        XCTAssertEqual(MIMEEncoding.base64(Array("\0u\0p".utf8)), "AHUAcA==")
        XCTAssertEqual(MIMEEncoding.base64(Array("hello".utf8)), "aGVsbG8=")
        XCTAssertEqual(MIMEEncoding.rfc5322Date(Timestamp(millisecondsSinceEpoch: 0)), "Thu, 01 Jan 1970 00:00:00 +0000")
    }

    func testMailboxHeaderEncodesOnlyTheDisplayName() {
        XCTAssertEqual(EmailMessage.mailboxHeader("Incidents <a@example.com>", address: "a@example.com"), "Incidents <a@example.com>")
        XCTAssertEqual(EmailMessage.mailboxHeader("Störungen <a@example.com>", address: "a@example.com"), "=?UTF-8?B?U3TDtnJ1bmdlbg==?= <a@example.com>")
        XCTAssertEqual(EmailMessage.mailboxHeader("a@example.com", address: "a@example.com"), "a@example.com")
        XCTAssertEqual(EmailMessage.mailbox("Ops Team <ops@example.com>"), "ops@example.com")
        XCTAssertNil(EmailMessage.mailbox("evil@example.com>\r\nRCPT TO:<x@y"))
    }

    func testHeaderTextCannotInjectHeaders() {
        XCTAssertEqual(MIMEEncoding.headerText("a\r\nBcc: x@y"), "a  Bcc: x@y")
    }
}
