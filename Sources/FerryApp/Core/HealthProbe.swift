import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `ferry healthcheck`: asks this host's Ferry for `/readyz` over a plain TCP socket, for a
/// container's `HEALTHCHECK` (the image has no curl and no shell).
///
/// Precondition: Ferry listens on `host:port` over plain HTTP. A wildcard host (`0.0.0.0`, `::`)
/// is reached on loopback. Side effects: one connection, closed before returning; no Vapor, no
/// store, so it costs a few milliseconds and cannot disturb the server.
enum HealthProbe {
    /// True when `/readyz` answers 200 within `timeout` seconds.
    static func ready(host: String, port: Int, timeout: Int = 3) -> Bool {
        let target = ["0.0.0.0", "::", "", "*"].contains(host) ? "127.0.0.1" : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target, String(port), &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { return false }
        let request = Array("GET /readyz HTTP/1.0\r\nHost: \(target)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 64)
        var received = 0
        while received < 12 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, $0.count - received, 0) }
            guard n > 0 else { break }
            received += n
        }
        let status = String(decoding: buffer.prefix(received), as: UTF8.self)
        return status.hasPrefix("HTTP/1.1 200") || status.hasPrefix("HTTP/1.0 200")
    }
}
