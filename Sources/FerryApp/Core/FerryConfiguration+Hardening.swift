import Foundation

/// Limits that protect sign-in, sessions, tokens and live connections (README, "Security").
/// Part of `FerryConfiguration`, read from the environment with the rest of it.
public struct HardeningConfiguration: Sendable, Equatable {
    /// Sign-in attempts (anything that checks a password) one client address may make per
    /// minute (`FERRY_LOGIN_RATE_PER_ADDRESS`). The address is the TCP peer: behind a proxy,
    /// every client shares the proxy's.
    public var signInPerAddress = 10
    /// Sign-in attempts all clients together may make per minute (`FERRY_LOGIN_RATE_GLOBAL`).
    public var signInGlobal = 120
    /// bcrypt computations running at once, on threads of their own (`FERRY_BCRYPT_THREADS`);
    /// by default one less than the cores, so a flood of sign-ins leaves a core to requests.
    public var bcryptThreads = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
    /// bcrypt computations that may wait for a thread (`FERRY_BCRYPT_QUEUE`); beyond them a
    /// sign-in is refused at once (503 with Retry-After) instead of queueing without end.
    public var bcryptQueue = 16
    /// Token lifetimes: the default when a request names none, and the longest allowed.
    public var tokens = TokenPolicy()
    /// Hours an SSO user's groups stay confirmed (`FERRY_SSO_RECHECK_HOURS`): after that their
    /// sessions end and their tokens stop working until they sign in through SSO again.
    public var ssoRecheckHours = 24
    /// Development only (`FERRY_SSO_ALLOW_HTTP=1`): accept an http:// SSO issuer.
    public var ssoAllowHTTP = false
    /// Live WebSocket connections one user may hold at once (`FERRY_WS_PER_USER`).
    public var webSocketsPerUser = 20

    public init() {}

    /// Reads the `FERRY_LOGIN_*`, `FERRY_BCRYPT_*`, `FERRY_TOKEN_*`, `FERRY_SSO_*` and
    /// `FERRY_WS_PER_USER` variables. Throws `ConfigurationError` naming a bad one.
    static func from(environment env: [String: String]) throws -> HardeningConfiguration {
        var h = HardeningConfiguration()
        func count(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = env[name], !v.isEmpty else { return nil }
            guard let n = Int(v), range.contains(n) else {
                throw ConfigurationError(variable: name, message: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(v)'")
            }
            return n
        }
        if let n = try count("FERRY_LOGIN_RATE_PER_ADDRESS", 1...100_000) { h.signInPerAddress = n }
        if let n = try count("FERRY_LOGIN_RATE_GLOBAL", 1...1_000_000) { h.signInGlobal = n }
        if let n = try count("FERRY_BCRYPT_THREADS", 1...256) { h.bcryptThreads = n }
        if let n = try count("FERRY_BCRYPT_QUEUE", 0...10_000) { h.bcryptQueue = n }
        if let n = try count("FERRY_TOKEN_MAX_DAYS", 1...3650) { h.tokens.maxDays = n }
        if let n = try count("FERRY_TOKEN_DAYS", 1...3650) { h.tokens.defaultDays = n }
        if h.tokens.defaultDays > h.tokens.maxDays {
            throw ConfigurationError(variable: "FERRY_TOKEN_DAYS", message: "must not exceed FERRY_TOKEN_MAX_DAYS (\(h.tokens.maxDays))")
        }
        if let n = try count("FERRY_SSO_RECHECK_HOURS", 1...8760) { h.ssoRecheckHours = n }
        if let v = env["FERRY_SSO_ALLOW_HTTP"], !v.isEmpty {
            switch v.lowercased() {
            case "1", "true", "yes": h.ssoAllowHTTP = true
            case "0", "false", "no": h.ssoAllowHTTP = false
            default: throw ConfigurationError(variable: "FERRY_SSO_ALLOW_HTTP", message: "must be 1 or 0, got '\(v)'")
            }
        }
        if let n = try count("FERRY_WS_PER_USER", 1...10_000) { h.webSocketsPerUser = n }
        return h
    }
}

/// How long API tokens last: `defaultDays` when the request gives no expiry (`FERRY_TOKEN_DAYS`,
/// 90), and at most `maxDays` (`FERRY_TOKEN_MAX_DAYS`, 365); a longer request is refused.
public struct TokenPolicy: Sendable, Equatable {
    public var defaultDays = 90
    public var maxDays = 365

    public init(defaultDays: Int = 90, maxDays: Int = 365) {
        self.defaultDays = defaultDays
        self.maxDays = maxDays
    }
}
