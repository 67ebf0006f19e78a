import Foundation
import SupersetKit
import Vapor

/// `ferry deploy --revision REV --from dev --to stage --dashboard sales-overview [--dashboard ...] [--yes]`:
/// deploys dashboards as a revision of Ferry's git history holds them (the source environment's
/// folder at that commit) into the same environment (going back) or another, through a running
/// Ferry's API. A deploy is a promotion whose source is the commit: the same plan, mappings,
/// apply, verification and rollback as `ferry promote` and `ferry restore`.
///
/// Without `--yes` it plans and prints the plan only (nothing is written); with it, it applies.
/// `--yes` (`-y`) is ConsoleKit's global "answer yes to every confirmation" flag, read before the
/// command's own options (it never reaches `Signature`), so the command asks the console for it.
/// Exit codes as `ferry promote`: 0 done (or a clean plan without --yes), 1 failed, 2 the plan has
/// conflicts, 3 applied but verification failed (partial), 4 a database needs a mapping (map it,
/// then run again), 64 bad usage.
struct DeployCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "revision", help: "The commit: a sha from ferry git log, HEAD or HEAD~n") var revision: String?
        @Option(name: "from", help: "The environment whose history holds the dashboards") var from: String?
        @Option(name: "to", help: "The environment to deploy into (the same one to go back)") var to: String?
        @Option(name: "dashboard", help: "A dashboard by uuid, slug or title; repeat --dashboard for more") var dashboard: String?
        @Option(name: "server", help: "Ferry's URL (default: FERRY_URL or http://127.0.0.1:8080)") var server: String?
        @Option(name: "map", help: "Database mappings to store first, by name: SOURCE=TARGET[,SOURCE=TARGET...]") var map: String?
        @Flag(name: "accept-shared", help: "Accept updates of charts or datasets other target dashboards use") var acceptShared: Bool
        @Flag(name: "accept-losses", help: "Accept the values a target on an older Superset can't import (the plan lists them)") var acceptLosses: Bool
        @Flag(name: "accept-unknown-version", help: "Import as is into a Superset release Ferry doesn't know (older than 4.1 or newer than it knows)") var acceptUnknownVersion: Bool
    }
    var help: String { "Deploy dashboards as a revision of Ferry's git history holds them, into an environment (plan, then apply with --yes)." }

    static let usage = "Usage: ferry deploy --revision REV --from ENV --to ENV --dashboard DASHBOARD [--dashboard ...] [--yes] [--accept-shared] [--accept-losses] [--accept-unknown-version] [--map SOURCE=TARGET]"

    /// `--dashboard` may be repeated: ConsoleKit's `@Option` takes its first occurrence only, so
    /// every `--dashboard VALUE` pair is taken out before the signature reads the rest.
    func run(using context: inout CommandContext) async throws {
        var dashboards: [String] = []
        var rest: [String] = []
        let arguments = context.input.arguments
        var i = 0
        while i < arguments.count {
            guard arguments[i] == "--dashboard" else {
                rest.append(arguments[i])
                i += 1
                continue
            }
            guard i + 1 < arguments.count, !arguments[i + 1].hasPrefix("--") else {
                context.console.error("--dashboard needs a dashboard (uuid, slug or title).\n\(Self.usage)")
                throw ExitCode(64)
            }
            // As ConsoleKit reads option values: a leading backslash escapes a leading '-'.
            let value = arguments[i + 1]
            dashboards.append(value.hasPrefix("\\") ? String(value.dropFirst()) : value)
            i += 2
        }
        context.input.arguments = rest
        let signature = try Signature(from: &context.input)
        let leftover = context.input.arguments
        if let r = leftover.firstIndex(of: "--revision") {
            // ConsoleKit leaves an option whose value begins with '-' unparsed, with its value.
            var problem = "--revision needs a commit."
            if r + 1 < leftover.count {
                problem = GitCommand.revisionProblem(leftover[r + 1], live: false) ?? "--revision is given more than once."
            }
            context.console.error("\(problem)\n\(Self.usage)")
            throw ExitCode(64)
        }
        if let problem = GitCommand.leftoverProblem(leftover, options: ["from", "to", "server", "map"], live: false) {
            context.console.error("\(problem)\n\(Self.usage)")
            throw ExitCode(64)
        }
        guard leftover.isEmpty else {
            context.console.error("Unexpected \(leftover.joined(separator: " ")).\n\(Self.usage)")
            throw ExitCode(64)
        }
        try await deploy(dashboards, context: context, signature: signature)
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        try await deploy([], context: context, signature: signature)
    }

    private func deploy(_ repeated: [String], context: CommandContext, signature: Signature) async throws {
        let console = context.console
        // Not split on commas: a title may hold one.
        let dashboards = (repeated + [signature.dashboard].compactMap { $0 })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let revision = signature.revision?.trimmingCharacters(in: .whitespaces), !revision.isEmpty,
              let from = signature.from, !from.isEmpty, let to = signature.to, !to.isEmpty, !dashboards.isEmpty else {
            console.error(Self.usage)
            throw ExitCode(64)
        }
        if let problem = GitCommand.revisionProblem(revision, live: false) {
            console.error(problem)
            throw ExitCode(64)
        }
        let api = try FerryAPIClient.forCommand(server: signature.server, console: console)
        if let map = signature.map {
            try await PromoteCommand.storeMappings(map, from: from, to: to, api: api, console: console)
        }
        let body = BundleValue.map([
            "revision": .string(revision), "source": .string(from), "target": .string(to),
            "dashboards": .list(dashboards.map(BundleValue.string)), "acceptUnknownVersion": .bool(signature.acceptUnknownVersion),
        ])
        let queued = try await api.send("POST", "/api/git/deploy", body, console: console)
        guard let planID = queued["id"]?.stringValue, let planTask = queued["taskId"]?.stringValue else {
            console.error("Ferry accepted the deploy but sent no plan or task id: \(queued.jsonText().prefix(300))")
            throw ExitCode(1)
        }
        console.print("Planning the deploy of revision \(revision) of \(from) to \(to) (task \(planTask))...")
        let apply = console.confirmOverride == true
        try await PlanApplyFlow.run(planID: planID, planTask: planTask, noun: "Deploy", dryRun: !apply,
                                    acceptShared: signature.acceptShared, acceptLosses: signature.acceptLosses, api: api, console: console)
        if !apply {
            console.print("Nothing is deployed without --yes: run again with --yes to apply, or apply this plan with POST /api/promotions/\(planID)/apply.")
        }
    }
}
