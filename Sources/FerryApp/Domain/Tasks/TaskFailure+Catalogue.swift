import Foundation

extension TaskFailure {
    /// A failure written from the catalogue: the cause `failure.<key>` and the next action
    /// `failure.<key>.next`, in English (what the task stores; pages show it in their reader's
    /// language, `Localizer.failureText`).
    init(key: String, _ values: [String: String] = [:]) {
        self.init(TaskText.text("failure.\(key)", values), next: TaskText.text("failure.\(key).next", values))
    }

    /// A cause from elsewhere (a refusal's or git's own words) with the catalogue's next action
    /// `failure.<key>.next`.
    init(_ message: String, nextKey key: String, _ values: [String: String] = [:]) {
        self.init(message, next: TaskText.text("failure.\(key).next", values))
    }
}

extension GitFailure {
    /// A git failure written from the catalogue: the cause `failure.<key>` and the next action
    /// `failure.<nextKey ?? key>.next`.
    init(key: String, nextKey: String? = nil, _ values: [String: String] = [:]) {
        self.init(message: TaskText.text("failure.\(key)", values), next: TaskText.text("failure.\(nextKey ?? key).next", values))
    }
}
