import NIOCore
import NIOPosix
import NIOSSL

/// Sends one `EmailMessage` per connection to an `smtp://` or `smtps://` endpoint.
///
/// `smtp://` starts in clear text and upgrades with STARTTLS when the server offers it;
/// `smtps://` is TLS from the first byte (port 465). TLS verifies the server against the
/// system's trust roots. Connecting is bounded by `connectTimeoutMilliseconds`, every reply by
/// `replyTimeoutMilliseconds`; one connection per message keeps the client stateless.
struct SMTPClient: Sendable {
    let group: any EventLoopGroup
    let settings: SMTPSettings
    /// The TLS context, or why one could not be made (TLS deliveries then fail).
    let tls: Result<NIOSSLContext, DeliveryError>

    init(group: any EventLoopGroup, settings: SMTPSettings) {
        self.group = group
        self.settings = settings
        do {
            tls = .success(try NIOSSLContext(configuration: .makeClientConfiguration()))
        } catch {
            tls = .failure(.invalid("cannot create a TLS context: \(error)"))
        }
    }

    func send(_ message: EmailMessage, to endpoint: Endpoint, username: String, password: String) async -> Result<Void, DeliveryError> {
        let implicitTLS = endpoint.scheme == "smtps"
        if implicitTLS, case .failure(let error) = tls { return .failure(error) }
        guard message.data.count <= settings.maxMessageBytes else {
            return .failure(DeliveryError(.messageTooLarge, "\(message.data.count) bytes, limit \(settings.maxMessageBytes)", retryable: false))
        }
        let hasCredentials = !username.isEmpty || !password.isEmpty
        let session = SMTPSession(
            settings: SMTPSession.Settings(
                heloName: settings.heloName,
                credentials: hasCredentials ? (username, password) : nil,
                startTLSWhenOffered: !implicitTLS,
                tlsActive: implicitTLS,
                plaintextAuthenticationAllowed: endpoint.isLoopback || settings.allowPlaintextAuthentication),
            message: message)
        let sni = endpoint.hostIsIPAddress ? nil : endpoint.host
        let startTLS = try? tls.get()
        let replyTimeout = TimeAmount.milliseconds(settings.replyTimeoutMilliseconds)
        let loop = group.next()
        let outcome = loop.makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(settings.connectTimeoutMilliseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if implicitTLS, let context = startTLS {
                        try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: sni))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    try pipeline.addHandler(SMTPClientHandler(
                        session: session, outcome: outcome, replyTimeout: replyTimeout,
                        startTLS: startTLS.map { SMTPClientHandler.StartTLS(context: $0, serverHostname: sni) }))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            let failure = Self.classifyConnect(error, endpoint: endpoint)
            outcome.fail(failure)  // the handler never ran; nothing else completes the promise
            return .failure(failure)
        }
        do {
            // Cancelling the task closes the connection, which fails `outcome` at once.
            try await withTaskCancellationHandler {
                try await outcome.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
            return .success(())
        } catch {
            return .failure(SMTPClientHandler.classify(error))
        }
    }

    static func classifyConnect(_ error: any Error, endpoint: Endpoint) -> DeliveryError {
        if let error = error as? ChannelError, case .connectTimeout = error {
            return DeliveryError(.timeout, "connecting to \(endpoint)", retryable: true)
        }
        return DeliveryError(.connectionFailed, "connecting to \(endpoint): \(error)", retryable: true)
    }
}
