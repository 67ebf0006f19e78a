import Foundation
import Testing
import VaporTesting

@testable import FerryApp

/// What the release's image, unit and compose file rely on: settings from files (container
/// secrets), the database password apart from its URL, and the version Ferry reports.
@Suite struct ReleaseConfigurationTests {
    struct NoFile: Error {}

    @Test func aSettingCanComeFromAFileButNotFromBothPlaces() throws {
        let files = ["/run/secrets/key": Data("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n".utf8),
                     "/run/secrets/big": Data(count: 70_000)]
        let read: (String) throws -> Data = { path in
            guard let data = files[path] else { throw NoFile() }
            return data
        }
        let resolved = try FerryConfiguration.resolvingFiles(["FERRY_SECRET_KEY_FILE": "/run/secrets/key", "FERRY_PORT": "9"], read: read)
        #expect(resolved == ["FERRY_SECRET_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "FERRY_PORT": "9"], "one line break dropped")
        #expect(try FerryConfiguration.from(environment: resolved).secretKey == "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")

        func refusal(_ env: [String: String]) -> ConfigurationError? {
            do { _ = try FerryConfiguration.resolvingFiles(env, read: read); return nil } catch { return error as? ConfigurationError }
        }
        let both = refusal(["FERRY_SECRET_KEY": "x", "FERRY_SECRET_KEY_FILE": "/run/secrets/key"])
        #expect(both?.variable == "FERRY_SECRET_KEY_FILE" && both?.message.contains("not both") == true)
        let missing = refusal(["DATABASE_URL_FILE": "/run/secrets/none"])
        #expect(missing?.message.contains("/run/secrets/none") == true)
        #expect(refusal(["FERRY_ADMIN_PASSWORD_FILE": "/run/secrets/big"])?.message.contains("64 KiB") == true)
        // Only the listed settings: anything else named *_FILE is left alone.
        #expect(try FerryConfiguration.resolvingFiles(["FERRY_PORT_FILE": "/run/secrets/key"], read: read) == ["FERRY_PORT_FILE": "/run/secrets/key"])
    }

    @Test func theDatabasePasswordIsAddedToTheURLEncoded() throws {
        let c = try FerryConfiguration.from(environment: [
            "DATABASE_URL": "postgres://ferry@db.internal:5432/ferry", "FERRY_DATABASE_PASSWORD": "p@ss/w:rd",
        ])
        let url = try #require(c.databaseURL.flatMap(URLComponents.init(string:)))
        #expect(url.password == "p@ss/w:rd" && url.user == "ferry" && url.host == "db.internal" && url.path == "/ferry")
        #expect(throws: ConfigurationError.self) { try FerryConfiguration.from(environment: ["FERRY_DATABASE_PASSWORD": "x"]) }
        #expect(throws: ConfigurationError.self) {
            try FerryConfiguration.from(environment: ["DATABASE_URL": "postgres://ferry:a@db/ferry", "FERRY_DATABASE_PASSWORD": "b"])
        }
    }

    @Test func theVersionIsOpenToEveryone() async throws {
        try await withFerry(.sqlite) { t in
            let res = try await t.request(.GET, "/api/version", anonymous: true)
            #expect(res.status == .ok)
            let body = try res.json()
            #expect(body["version"]?.stringValue == FerryVersion.number)
            #expect(body["commit"]?.stringValue == "dev", "a development build has no build.json")
        }
    }
}
