import Foundation
import SupersetKit

/// A headless chromium for one task: started at the beginning of a check, killed (with every
/// process it started) at its end, whatever happened. Pages are DevTools targets of it.
///
/// Side effects: a chromium process group and a scratch profile folder, both gone after `close`.
final class HeadlessBrowser: Sendable {
    let process: ChromiumProcess
    let connection: DevToolsConnection
    let profile: URL
    let logFile: URL

    private init(process: ChromiumProcess, connection: DevToolsConnection, profile: URL, logFile: URL) {
        self.process = process
        self.connection = connection
        self.profile = profile
        self.logFile = logFile
    }

    /// Starts chromium and waits (at most `timeout`) until it answers.
    static func start(executable: String, scratch: URL, timeout: TimeInterval, extraArguments: [String] = []) async throws -> HeadlessBrowser {
        let folder = scratch.appendingPathComponent("chromium-\(UUID().uuidString.prefix(8))")
        let profile = folder.appendingPathComponent("profile")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let logFile = folder.appendingPathComponent("chromium.log")
        let process: ChromiumProcess
        do {
            process = try ChromiumProcess.launch(executable: executable, profile: profile, logFile: logFile, extraArguments: extraArguments)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
        let browser = HeadlessBrowser(process: process, connection: DevToolsConnection(process: process), profile: profile, logFile: logFile)
        do {
            _ = try await browser.connection.send("Browser.getVersion", timeout: timeout)
        } catch {
            let tail = browser.logTail()
            browser.close()
            throw DevToolsError(description: "chromium didn't start: \(error)\(tail.isEmpty ? "" : " (it said: \(tail))")")
        }
        return browser
    }

    /// Opens a blank page (a target with its own session) of `width` × `height` CSS pixels.
    func newPage(width: Int, height: Int, timeout: TimeInterval) async throws -> BrowserPage {
        let target = try await connection.send("Target.createTarget", .map(["url": .string("about:blank")]), timeout: timeout)
        guard let targetID = target["targetId"]?.stringValue else { throw DevToolsError(description: "chromium opened no page") }
        let attached = try await connection.send("Target.attachToTarget", .map(["targetId": .string(targetID), "flatten": .bool(true)]), timeout: timeout)
        guard let session = attached["sessionId"]?.stringValue else { throw DevToolsError(description: "chromium gave no session for the page") }
        let page = BrowserPage(browser: self, targetID: targetID, session: session)
        for method in ["Page.enable", "Runtime.enable", "Log.enable"] { _ = try await page.send(method, timeout: timeout) }
        try await page.resize(width: width, height: height, timeout: timeout)
        return page
    }

    /// The last lines chromium printed (for a failure message), at most 300 characters.
    func logTail() -> String {
        guard let data = try? Data(contentsOf: logFile) else { return "" }
        let lines = String(decoding: data.suffix(4096), as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
        return String(lines.suffix(300))
    }

    /// Kills chromium's whole process group and removes the profile. Idempotent.
    func close() {
        process.kill()
        try? FileManager.default.removeItem(at: profile.deletingLastPathComponent())
    }
}

/// One page of a `HeadlessBrowser`.
struct BrowserPage: Sendable {
    let browser: HeadlessBrowser
    let targetID: String
    let session: String

    func send(_ method: String, _ params: BundleValue = .map([:]), timeout: TimeInterval) async throws -> BundleValue {
        try await browser.connection.send(method, params, session: session, timeout: timeout)
    }

    func resize(width: Int, height: Int, timeout: TimeInterval) async throws {
        _ = try await send("Emulation.setDeviceMetricsOverride", .map([
            "width": .int(width), "height": .int(height), "deviceScaleFactor": .int(1), "mobile": .bool(false),
        ]), timeout: timeout)
    }

    /// Goes to `url` and waits until the document has loaded (at most `timeout`).
    func navigate(_ url: String, timeout: TimeInterval) async throws {
        let answer = try await send("Page.navigate", .map(["url": .string(url)]), timeout: timeout)
        if let error = answer["errorText"]?.stringValue, !error.isEmpty {
            throw DevToolsError(description: "chromium couldn't open \(url): \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? await evaluate("document.readyState", timeout: 5))?.stringValue == "complete" { return }
            try await Task.sleep(nanoseconds: 150_000_000)
        }
        throw DevToolsError(description: "\(url) didn't finish loading within \(Int(timeout)) s")
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its JSON value.
    func evaluate(_ expression: String, timeout: TimeInterval) async throws -> BundleValue {
        let result = try await send("Runtime.evaluate", .map([
            "expression": .string(expression), "returnByValue": .bool(true), "awaitPromise": .bool(true),
        ]), timeout: timeout)
        if let exception = result["exceptionDetails"] {
            let text = exception["exception"]?["description"]?.stringValue ?? exception["text"]?.stringValue ?? "script error"
            throw DevToolsError(description: "script failed in the page: \(text.prefix(300))")
        }
        return result["result"]?["value"] ?? .null
    }

    /// A PNG of the page as it is now.
    func screenshot(timeout: TimeInterval) async throws -> Data {
        let shot = try await send("Page.captureScreenshot", .map(["format": .string("png")]), timeout: timeout)
        guard let text = shot["data"]?.stringValue, let data = Data(base64Encoded: text) else {
            throw DevToolsError(description: "chromium returned no screenshot")
        }
        return data
    }

    /// The prefix of an uncaught exception among `takeConsoleErrors`' lines.
    static let uncaught = "Uncaught: "

    /// Console errors and uncaught exceptions (prefixed `uncaught`) since the last call, at most `limit`.
    func takeConsoleErrors(limit: Int = 50) -> [String] {
        let events = browser.connection.take(["Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded"], session: session)
        var out: [String] = []
        for e in events {
            if let type = e["type"]?.stringValue {
                guard type == "error" || type == "assert" else { continue }
                let text = (e["args"]?.listValue ?? []).compactMap { $0["value"]?.stringValue ?? $0["description"]?.stringValue }.joined(separator: " ")
                out.append(text)
            } else if let details = e["exceptionDetails"] {
                // Tagged, whatever the page's own words: the check counts these.
                out.append(Self.uncaught + (details["exception"]?["description"]?.stringValue ?? details["text"]?.stringValue ?? "exception"))
            } else if let entry = e["entry"], entry["level"]?.stringValue == "error" {
                out.append((entry["text"]?.stringValue ?? "") + (entry["url"]?.stringValue.map { " (\($0))" } ?? ""))
            }
        }
        return Array(out.map { String($0.prefix(500)) }.prefix(limit))
    }

    func close(timeout: TimeInterval) async {
        _ = try? await browser.connection.send("Target.closeTarget", .map(["targetId": .string(targetID)]), timeout: timeout)
        browser.connection.forget(session: session)
    }
}
