import Foundation
import Logging
import Vapor

/// What the `ferry` executable runs: reads the configuration from the environment, configures the
/// app and executes the command line (`serve`, `migrate`, `env ...`).
public enum FerryEntrypoint {
    public static func main() async -> Int32 {
        // Answered before anything else starts: no store, no Vapor, no logging setup.
        if CommandLine.arguments.dropFirst().first.map({ ["--version", "version"].contains($0) }) == true {
            print(FerryVersion.current.line)
            return 0
        }
        MemoryRelease.limitArenas()
        let processEnvironment: [String: String]
        do {
            processEnvironment = try FerryConfiguration.resolvingFiles(ProcessInfo.processInfo.environment) { path in
                // At most one byte over the limit: a path to /dev/zero can't exhaust memory.
                let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                defer { try? handle.close() }
                return try handle.read(upToCount: FerryConfiguration.maxFileVariableBytes + 1) ?? Data()
            }
        } catch {
            FileHandle.standardError.write(Data("ferry: configuration error: \(error)\n".utf8))
            return 78
        }
        if CommandLine.arguments.dropFirst().first == "healthcheck" {
            guard let c = try? FerryConfiguration.from(environment: processEnvironment) else { return 1 }
            return HealthProbe.ready(host: c.host, port: c.port) ? 0 : 1
        }
        var env: Vapor.Environment
        do {
            env = try Vapor.Environment.detect(arguments: Self.arguments(CommandLine.arguments))
        } catch {
            FileHandle.standardError.write(Data("ferry: \(error)\n".utf8))
            return 64
        }
        let configuration: FerryConfiguration
        do {
            configuration = try FerryConfiguration.from(environment: processEnvironment)
        } catch {
            FileHandle.standardError.write(Data("ferry: configuration error: \(error)\n".utf8))
            return 78
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
            return handler
        }
        let isServe = env.arguments.count < 2 || env.arguments[1] == "serve"
        let app: Application
        do {
            app = try await Application.make(env)
        } catch {
            FileHandle.standardError.write(Data("ferry: \(error)\n".utf8))
            return 70
        }
        var status: Int32 = 0
        do {
            let command = env.arguments.dropFirst().first ?? "serve"
            try await configure(app, configuration: configuration, migrate: command != "migrate" && command != "--help" && command != "-h", startBackgroundWork: isServe)
            // The git history's commands (issue 14), beside configure's `backup` and `restore`.
            app.asyncCommands.use(GitCommand(), as: "git")
            app.asyncCommands.use(DeployCommand(), as: "deploy")
            try await app.execute()
        } catch let exit as ExitCode {
            status = exit.code
        } catch {
            app.logger.error("ferry failed: \(error)")
            status = 1
        }
        try? await app.asyncShutdown()
        return status
    }

    /// Vapor reads `--env NAME` as its own environment (development, production). `ferry backup`
    /// and `ferry git` take `--env` for a Ferry environment, so there it becomes `--environment`.
    static func arguments(_ arguments: [String]) -> [String] {
        guard arguments.count > 1, ["backup", "git"].contains(arguments[1]) else { return arguments }
        return arguments.map { $0 == "--env" ? "--environment" : $0 }
    }
}
