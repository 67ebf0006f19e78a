import Foundation
import SupersetKit

/// What chromium showed of one dashboard tab.
struct RenderedTab: Sendable {
    /// The tab's label; nil for a dashboard without tabs.
    var name: String?
    var png: Data
    /// Error boxes Superset drew in charts: the chart's id and title when the box is in one.
    var chartErrors: [(chartID: Int?, chart: String?, message: String)]
    /// Charts still showing a spinner when the wait ended.
    var stillLoading: Int
    var charts: Int
    /// What chromium showed instead of the dashboard when its grid never appeared (the page's
    /// path and title: a sign-in page, an error page); nil when the dashboard was there.
    var notShown: String? = nil
}

/// What chromium showed of one dashboard.
struct Rendering: Sendable {
    var tabs: [RenderedTab]
    var consoleErrors: [String]
    var milliseconds: Int
}

/// Signs a `HeadlessBrowser` in to a Superset and renders dashboards in it: opens each at
/// 1920 px wide, waits until its charts stop loading, and for every top-level tab records a
/// screenshot, the error boxes Superset drew in charts, and the console errors.
///
/// Preconditions: the browser is this renderer's alone. Side effects: Superset page loads and
/// the queries they run; one sign-in per renderer (the browser keeps the session cookie).
struct DashboardRenderer: Sendable {
    static let width = 1920
    /// Tall enough that Superset's lazy loading renders every chart of a usual dashboard.
    static let viewportHeight = 3000
    static let maxScreenshotHeight = 6000
    static let maxTabs = 20

    let browser: HeadlessBrowser
    let baseURL: URL
    /// For one DevTools command.
    let commandTimeout: TimeInterval
    /// For one dashboard tab's charts to finish.
    let chartsTimeout: TimeInterval

    /// Signs in with Superset's own form (database or LDAP accounts), then checks the session
    /// with `/api/v1/me/`.
    ///
    /// The form is fetched, not opened: on a page with no Superset script (its `/health`), the
    /// form's CSRF token is read from the fetched HTML and posted back. Superset's sign-in page
    /// is a single-page app whose own requests (its CSRF token among them) set the session cookie
    /// as they answer; one answering after the sign-in put back the signed-out session, and the
    /// next dashboard showed the sign-in page. Here nothing runs beside the three requests.
    /// Tried up to three times against a Superset that answers slowly, restarts or can't be
    /// reached for a moment. Signed in means `/api/v1/me/` answers 200 with its JSON itself (not
    /// a proxy's sign-in page it was led to).
    func signIn(username: String, password: String, on page: BrowserPage) async throws {
        let origin = Self.origin(of: baseURL)
        // Each request's own limit, so a hung one is an attempt that failed, not the whole wait.
        let requestMs = max(1_000, Int(commandTimeout * 1000) / 4)
        let script = """
            (async () => {
              // The password goes only to the environment's own origin, never where it was led.
              if (location.origin !== \(jsString(origin))) return [-1, 0];
              try {
                const me = async () => {
                  const r = await fetch(\(jsString(url("/api/v1/me/"))), {credentials: 'same-origin', redirect: 'manual', signal: AbortSignal.timeout(\(requestMs))});
                  if (r.status !== 200) return r.status;
                  const j = await r.json().catch(() => null);
                  return j && typeof j.result === 'object' && j.result ? 200 : -3;
                };
                const form = await fetch(\(jsString(url("/login/"))), {credentials: 'same-origin', redirect: 'manual', signal: AbortSignal.timeout(\(requestMs))});
                // Superset sends a signed-in browser on from /login/; a single sign-on one leaves.
                // A Superset answering 5xx meanwhile is tried again, not taken for single sign-on.
                if (form.type === 'opaqueredirect') { const m = await me(); return [m === 200 ? 0 : m >= 500 ? -2 : -1, m]; }
                const page = new DOMParser().parseFromString(await form.text(), 'text/html');
                const token = page.getElementById('csrf_token');
                const body = new URLSearchParams({username: \(jsString(username)), password: \(jsString(password)), csrf_token: token ? token.value : ''});
                const post = await fetch(\(jsString(url("/login/"))), {method: 'POST', body, credentials: 'same-origin', redirect: 'manual', signal: AbortSignal.timeout(\(requestMs))});
                return [post.status, await me()];
              } catch (e) {
                return [-2, 0];  // not reached (or no answer in time): tried again
              }
            })()
            """
        var last = (post: 0, me: 0)
        try await page.navigate(url("/health"), timeout: commandTimeout)
        for attempt in 1...3 {
            if attempt > 1 { try await Task.sleep(nanoseconds: UInt64(attempt - 1) * 1_000_000_000) }
            let answer = try await page.evaluate(script, timeout: commandTimeout).listValue ?? []
            last = (answer.first?.intValue ?? 0, answer.dropFirst().first?.intValue ?? 0)
            if last.post == -1 {
                throw DevToolsError(description: "Superset's sign-in page led chromium away from \(origin) (or to a sign-in that isn't Superset's own form); sign in there is not Ferry's to do (single sign-on?)")
            }
            if last.me == 200 { return }
        }
        if last.post == -2 {
            throw DevToolsError(description: "chromium couldn't reach Superset at \(origin) to sign in (no answer, or an error answer, in three tries); check that it is up and that Ferry's host can reach it")
        }
        // An opaque redirect (a fetch with redirect: manual) shows as status 0: the form was taken.
        throw DevToolsError(description: "chromium couldn't sign in to Superset as \(username) (the sign-in form answered \(last.post == 0 ? "a redirect" : String(last.post)), the session check \(last.me == -3 ? "a page that isn't Superset's answer" : String(last.me))); check the environment's credentials")
    }

    func render(dashboardID: Int, on page: BrowserPage) async throws -> Rendering {
        let started = Date()
        try await page.resize(width: Self.width, height: Self.viewportHeight, timeout: commandTimeout)
        _ = page.takeConsoleErrors()
        _ = try await page.send("Page.addScriptToEvaluateOnNewDocument", .map(["source": .string(Self.requestTrackerScript)]), timeout: commandTimeout)
        try await page.navigate(url("/superset/dashboard/\(dashboardID)/?standalone=1"), timeout: commandTimeout)
        var tabs: [RenderedTab] = []
        // Superset draws the layout (tabs included) only once its API calls answered.
        _ = try await settle(on: page)
        let labels = (try await page.evaluate(Self.tabLabelsScript, timeout: commandTimeout).listValue ?? []).prefix(Self.maxTabs)
            .map { String(($0.stringValue ?? "").prefix(200)) }
        if labels.isEmpty {
            tabs.append(try await capture(tab: nil, on: page))
        } else {
            for (index, label) in labels.enumerated() {
                _ = try await page.evaluate("(() => { const t = document.querySelectorAll(\(jsString(Self.tabSelector)))[\(index)]; if (t) t.click(); return !!t })()",
                                            timeout: commandTimeout)
                tabs.append(try await capture(tab: label, on: page))
            }
        }
        return Rendering(tabs: tabs, consoleErrors: page.takeConsoleErrors(), milliseconds: Int(Date().timeIntervalSince(started) * 1000))
    }

    /// Waits for the visible charts, then photographs the page.
    private func capture(tab: String?, on page: BrowserPage) async throws -> RenderedTab {
        let state = try await settle(on: page)
        let height = min(max(state["height"]?.intValue ?? Self.viewportHeight, 200), Self.maxScreenshotHeight)
        try await page.resize(width: Self.width, height: height, timeout: commandTimeout)
        let png = try await page.screenshot(timeout: commandTimeout)
        try await page.resize(width: Self.width, height: Self.viewportHeight, timeout: commandTimeout)
        // What the page says is bounded here too: its own script could have been changed by it.
        let errors = (state["errors"]?.listValue ?? []).prefix(50).map { e in
            (chartID: e["chartId"]?.stringValue.flatMap { Int($0.prefix(12)) }, chart: e["chart"]?.stringValue.map { String($0.prefix(200)) },
             message: String((e["message"]?.stringValue ?? "").prefix(500)))
        }
        return RenderedTab(name: tab, png: png, chartErrors: Array(errors), stillLoading: min(state["loading"]?.intValue ?? 0, 10_000),
                           charts: min(state["charts"]?.intValue ?? 0, 10_000),
                           notShown: state["ready"]?.boolValue == true ? nil
                               : "\(String((state["path"]?.stringValue ?? "?").prefix(200))) (\(String((state["title"]?.stringValue ?? "").prefix(200))))")
    }

    /// Polls the page until the dashboard is there and its charts stop loading (the same state
    /// twice in a row), or `chartsTimeout` passes; returns the last state.
    private func settle(on page: BrowserPage) async throws -> BundleValue {
        let deadline = Date().addingTimeInterval(chartsTimeout)
        var state = BundleValue.null
        var stable = 0
        var last = ""
        while Date() < deadline {
            try Task.checkCancellation()
            state = try await page.evaluate(Self.stateScript, timeout: commandTimeout)
            let signature = state.jsonText()
            // No spinner, no request in flight, and, when charts show, their data asked for at
            // least once: a page whose charts haven't started loading yet is not settled.
            let charts = state["charts"]?.intValue ?? 0
            let settled = state["ready"]?.boolValue == true && state["loading"]?.intValue == 0 && state["pending"]?.intValue == 0
                && (charts == 0 || state["tracked"]?.boolValue != true || (state["chartData"]?.intValue ?? 0) > 0)
            // Superset's sign-in page instead of the dashboard won't turn into it: no wait.
            let path = state["path"]?.stringValue ?? ""
            let signIn = state["ready"]?.boolValue != true && (path.hasSuffix("/login/") || path.hasSuffix("/login"))
            stable = (settled || signIn) && signature == last ? stable + 1 : 0
            last = signature
            if stable >= 2 { break }
            try await Task.sleep(nanoseconds: 300_000_000)
        }
        return state
    }

    /// `scheme://host[:port]` as `location.origin` shows it (no default port).
    static func origin(of url: URL) -> String {
        let scheme = url.scheme?.lowercased() ?? "http"
        let host = url.host?.lowercased() ?? ""
        let shownHost = host.contains(":") ? "[\(host)]" : host
        guard let port = url.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return "\(scheme)://\(shownHost)" }
        return "\(scheme)://\(shownHost):\(port)"
    }

    private func url(_ path: String) -> String {
        baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) + path : baseURL.absoluteString + path
    }

    static let tabSelector = "[data-test=\"top-level-tabs\"] [role=\"tab\"]"

    static let tabLabelsScript = """
        Array.from(document.querySelectorAll(\(jsString(tabSelector)))).map(t => (t.innerText || '').trim().slice(0, 200))
        """

    /// Installed before the dashboard's page loads: counts the page's fetch and XHR requests in
    /// flight, and the chart data requests answered, for `settle`.
    static let requestTrackerScript = """
        (() => {
          if (window.__ferryRequests) return;
          const s = window.__ferryRequests = {pending: 0, chartData: 0};
          const isChartData = u => String(u || '').indexOf('/api/v1/chart/data') >= 0;
          const originalFetch = window.fetch;
          if (originalFetch) {
            window.fetch = function (input, init) {
              const u = typeof input === 'string' ? input : (input && input.url);
              s.pending++;
              return originalFetch.apply(this, arguments).finally(() => { s.pending--; if (isChartData(u)) s.chartData++; });
            };
          }
          const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
          XMLHttpRequest.prototype.open = function (method, u) { this.__ferryURL = u; return open.apply(this, arguments); };
          XMLHttpRequest.prototype.send = function () {
            s.pending++;
            this.addEventListener('loadend', () => { s.pending--; if (isChartData(this.__ferryURL)) s.chartData++; });
            return send.apply(this, arguments);
          };
        })()
        """

    /// The page's state: whether the dashboard is there, the requests in flight, how many charts and spinners it shows,
    /// the error boxes in charts, and its height.
    static let stateScript = """
        (() => {
          const charts = Array.from(document.querySelectorAll('[data-test="chart-grid-component"]'));
          const visible = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
          const loading = Array.from(document.querySelectorAll('[data-test="loading-indicator"], .loading, [aria-label="Loading"]')).filter(visible).length;
          const errors = [];
          for (const c of charts) {
            if (!visible(c)) continue;
            for (const box of c.querySelectorAll('.ant-alert-error, [role="alert"], [data-test="error-tooltip"]')) {
              if (!visible(box)) continue;
              errors.push({chartId: c.getAttribute('data-test-chart-id'), chart: c.getAttribute('data-test-chart-name'),
                           message: (box.innerText || box.getAttribute('aria-label') || 'error').trim().slice(0, 500)});
              break;
            }
          }
          const ready = document.readyState === 'complete' && !!document.querySelector('[data-test="grid-container"], [data-test="grid-content"], .dashboard-content, .grid-container');
          const tracker = window.__ferryRequests;
          return {ready, charts: charts.filter(visible).length, loading, errors,
                  tracked: !!tracker, pending: tracker ? tracker.pending : 0, chartData: tracker ? tracker.chartData : 0,
                  path: location.pathname, title: document.title,
                  height: Math.ceil(Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0))};
        })()
        """
}

/// `text` as a JavaScript string literal (JSON is valid JavaScript).
func jsString(_ text: String) -> String { BundleValue.string(text).jsonText() }
