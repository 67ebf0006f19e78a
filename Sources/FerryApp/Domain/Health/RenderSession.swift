import Foundation

/// The chromium of one dashboard check: started and signed in to Superset once, a page per
/// dashboard, restarted (at most `maxRestarts` times) when it crashes, and killed when a
/// dashboard takes longer than its deadline, so a hung page costs one dashboard, never the task.
///
/// Invariant: after `close()` no chromium of this session runs, and none is started again.
actor RenderSession {
    static let maxRestarts = 2
    let executable: String
    let scratch: URL
    let baseURL: URL
    let username: String
    let password: String
    let ignoreCertificateErrors: Bool
    let commandTimeout: TimeInterval
    let chartsTimeout: TimeInterval
    private var browser: HeadlessBrowser?
    private var restarting: Task<Void, any Error>?
    private var restarts = 0
    private var closed = false

    init(executable: String, scratch: URL, baseURL: URL, username: String, password: String, ignoreCertificateErrors: Bool,
         commandTimeout: TimeInterval, chartsTimeout: TimeInterval) {
        self.executable = executable
        self.scratch = scratch
        self.baseURL = baseURL
        self.username = username
        self.password = password
        self.ignoreCertificateErrors = ignoreCertificateErrors
        self.commandTimeout = commandTimeout
        self.chartsTimeout = chartsTimeout
    }

    /// Starts chromium and signs it in. Throws what went wrong (missing, crashed, refused).
    func start() async throws {
        guard !closed else { throw DevToolsError(description: "the check is over") }
        let b = try await HeadlessBrowser.start(executable: executable, scratch: scratch, timeout: commandTimeout,
                                                extraArguments: ignoreCertificateErrors ? ["--ignore-certificate-errors"] : [])
        do {
            guard !closed else { throw DevToolsError(description: "the check is over") }
            let page = try await b.newPage(width: DashboardRenderer.width, height: 1080, timeout: commandTimeout)
            try await renderer(b).signIn(username: username, password: password, on: page)
            await page.close(timeout: commandTimeout)
            // close() may have run while this waited: never keep a browser after it.
            guard !closed else { throw DevToolsError(description: "the check is over") }
        } catch {
            b.close()
            throw error
        }
        browser?.close()
        browser = b
    }

    /// The running browser, restarted once for everyone waiting when it died (concurrent
    /// renders share one restart, so no second chromium is started and lost).
    private func alive() async throws -> HeadlessBrowser {
        if let b = browser, !b.connection.isClosed { return b }
        if let restart = restarting { try await restart.value; return try current() }
        browser?.close()
        browser = nil
        guard restarts < Self.maxRestarts else {
            throw DevToolsError(description: "chromium stopped working and was restarted \(restarts) times; rendering is off for the rest of this check")
        }
        restarts += 1
        let restart = Task { try await self.start() }
        restarting = restart
        defer { restarting = nil }
        try await restart.value
        return try current()
    }

    private func current() throws -> HeadlessBrowser {
        guard let b = browser, !closed else { throw DevToolsError(description: "chromium is not running") }
        return b
    }

    /// Renders one dashboard on a page of its own, within a deadline of every tab's wait plus
    /// a minute. Past it the page is closed (chromium itself only if it doesn't answer that), so
    /// a hung dashboard costs itself, not the others rendering beside it.
    ///
    /// When Superset shows its sign-in page instead (the session chromium signed in with has
    /// ended: it expired, was revoked, or Superset dropped it), chromium signs in once more and
    /// the dashboard is rendered again. A second sign-in page is the result: it is reported.
    func render(dashboardID: Int) async throws -> Rendering {
        let first = try await renderOnce(dashboardID: dashboardID)
        guard Self.landedOnSignIn(first) else { return first }
        let b = try await alive()
        let page = try await b.newPage(width: DashboardRenderer.width, height: 1080, timeout: commandTimeout)
        do {
            try await renderer(b).signIn(username: username, password: password, on: page)
        } catch {
            await page.close(timeout: commandTimeout)
            throw error
        }
        await page.close(timeout: commandTimeout)
        signIns += 1
        return try await renderOnce(dashboardID: dashboardID)
    }

    /// How many times chromium signed in again because a dashboard showed the sign-in page.
    private(set) var signIns = 0

    /// Whether the dashboard's page was Superset's sign-in page (its path is `/login/`).
    static func landedOnSignIn(_ rendering: Rendering) -> Bool {
        rendering.tabs.contains { tab in
            guard let path = tab.notShown?.split(separator: " ").first else { return false }
            return path.hasSuffix("/login/") || path.hasSuffix("/login")
        }
    }

    private func renderOnce(dashboardID: Int) async throws -> Rendering {
        let b = try await alive()
        let deadline = chartsTimeout * Double(DashboardRenderer.maxTabs) + 60
        let r = renderer(b)
        let timeout = commandTimeout
        let page = try await b.newPage(width: DashboardRenderer.width, height: DashboardRenderer.viewportHeight, timeout: timeout)
        return try await withThrowingTaskGroup(of: Rendering?.self) { group in
            group.addTask { try await r.render(dashboardID: dashboardID, on: page) }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(deadline * 1_000_000_000))
                return nil
            }
            defer { group.cancelAll() }
            do {
                guard let first = try await group.next(), let rendering = first else {
                    if (try? await b.connection.send("Target.closeTarget", .map(["targetId": .string(page.targetID)]), timeout: 5)) == nil { b.close() }
                    throw DevToolsError(description: "the dashboard didn't finish rendering within \(Int(deadline)) s")
                }
                await page.close(timeout: timeout)
                return rendering
            } catch {
                await page.close(timeout: 5)
                throw error
            }
        }
    }

    /// Forgets every cookie chromium holds (Superset's session among them). For tests, which
    /// end a session the way Superset would.
    func clearCookies() async throws {
        _ = try await alive().connection.send("Storage.clearCookies", .map([:]), timeout: commandTimeout)
    }

    /// Kills chromium for good.
    func close() {
        closed = true
        browser?.close()
        browser = nil
    }

    private func renderer(_ b: HeadlessBrowser) -> DashboardRenderer {
        DashboardRenderer(browser: b, baseURL: baseURL, commandTimeout: commandTimeout, chartsTimeout: chartsTimeout)
    }
}
