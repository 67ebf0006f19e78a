import Fluent
import Foundation
import Metrics
import Prometheus
import SQLKit
import Vapor

/// Health, readiness, metrics, the version and the OpenAPI document.
enum OperationsAPI {
    static func register(_ routes: RoutesBuilder) {
        routes.get(.healthz) { _ in ["status": "ok"] }
        routes.get(.readyz, use: ready)
        routes.get(.metrics, use: metrics)
        routes.get(.api(.openapi), use: openapi)
        routes.get(.api(.version)) { _ in FerryVersion.current }
    }

    @Sendable static func ready(req: Request) async throws -> Response {
        do {
            if let sql = req.db as? SQLDatabase {
                _ = try await sql.raw("SELECT 1").all()
            } else {
                _ = try await EnvironmentModel.query(on: req.db).count()
            }
            return try await ["status": "ready"].encodeResponse(for: req)
        } catch {
            req.logger.error("readiness check failed", metadata: ["error": .string(String(describing: error))])
            throw AppError(.serviceUnavailable, code: "store_unavailable", key: "store_unavailable")
        }
    }

    @Sendable static func metrics(req: Request) async throws -> Response {
        var buffer: [UInt8] = []
        FerryMetrics.registry.emit(into: &buffer)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/plain; version=0.0.4; charset=utf-8")
        return Response(status: .ok, headers: headers, body: .init(data: Data(buffer)))
    }

    @Sendable static func openapi(req: Request) async throws -> Response {
        guard let data = OpenAPIDocument.data else {
            throw AppError(.internalServerError, code: "internal", detail: "The OpenAPI document is missing from the build.")
        }
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}

enum OpenAPIDocument {
    static let data: Data? = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources")
        .flatMap { try? Data(contentsOf: $0) }
}

/// The process-wide Prometheus registry (swift-metrics can be bootstrapped once per process).
enum FerryMetrics {
    static let registry = PrometheusCollectorRegistry()
    private static let once: Void = {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }()

    static func bootstrap() { _ = once }
}

/// `GET /api/version`: the release number and the commit it was built from (open, like
/// `/readyz`, so monitoring can read it without a token).
extension FerryVersion: Content {}
