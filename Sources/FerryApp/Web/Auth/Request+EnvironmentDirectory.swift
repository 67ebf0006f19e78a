import Vapor

extension Request {
    private struct DirectoryKey: StorageKey { typealias Value = EnvironmentDirectory }

    /// The stored environments' ids, names and stages. A GET (or HEAD) reads them once and
    /// reuses them for the rest of the request (the navigation's counts, the checks and the page
    /// each asked). Any other method, and a WebSocket (a GET that lives on and checks each new
    /// task it hears of), reads them at each call: a socket sees environments added or changed
    /// since it opened.
    ///
    /// Precondition: a GET or HEAD handler never writes environments (only POST, PUT and DELETE
    /// routes do), so no request decides on environments it read before it changed them. A GET
    /// that ever must write them reads `EnvironmentDirectory.load` after the write.
    func environmentDirectory() async throws -> EnvironmentDirectory {
        guard method == .GET || method == .HEAD, headers[.upgrade].isEmpty else { return try await EnvironmentDirectory.load(on: db) }
        if let kept = storage[DirectoryKey.self] { return kept }
        let directory = try await EnvironmentDirectory.load(on: db)
        storage[DirectoryKey.self] = directory
        return directory
    }

    /// The environments of `directory` that the caller's `permission` covers, by name: the
    /// choices of a page's pickers and filters.
    func environments(_ permission: Permission, in directory: EnvironmentDirectory) -> [EnvironmentRef] {
        directory.sortedByName.filter { permits(permission, environment: $0) }
    }
}
