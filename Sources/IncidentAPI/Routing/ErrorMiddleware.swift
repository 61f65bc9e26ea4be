import Hummingbird
import Logging

/// Turns every failure into the API's JSON error body: our own `APIError`s, Hummingbird's
/// errors (unknown route, method not allowed) and anything unexpected (500, logged). Installed
/// before every route, so no request gets an empty or HTML error.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try Self.translate(error.status, path: request.uri.path).response(from: request, context: context)
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try APIError(.internalServerError, .internal, "the request failed on the server").response(from: request, context: context)
        }
    }

    static func translate(_ status: HTTPResponse.Status, path: String) -> APIError {
        switch status.code {
        case 404: return .notFound("no route for \(path)")
        case 405: return APIError(.methodNotAllowed, .notFound, "method not allowed on \(path)")
        case 413: return APIError(.contentTooLarge, .payloadTooLarge, "the request body is too large")
        case 400..<500: return APIError(status, .invalidRequest, status.reasonPhrase)
        default: return APIError(status, .internal, status.reasonPhrase)
        }
    }
}
