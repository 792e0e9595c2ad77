import ArgumentParser
import ConfigFile
import Glibc
import DoorCore

/// `intercom check-config FILE`: the validation `intercom run --config FILE` does at start, without running.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a config file: unknown keys, wrong types, impossible values. Exit 0 if fine, 78 if not.")

    @Argument(help: "The config file, e.g. /etc/intercom/intercom.yaml.")
    var file: String

    func run() throws {
        _ = try ConfigCheck.load(file)
        print("\(file): OK")
    }
}

/// Loading a config file for a command: on failure, one line on stderr naming file, line and key, and exit 78.
enum ConfigCheck {
    static func load(_ path: String) throws -> Configuration {
        do {
            return try ConfigFile.load(path: path)
        } catch {
            report(error)
            throw ExitCode(ConfigurationError.exitStatus)
        }
    }

    static func report(_ error: ConfigurationError) {
        var bytes = Array("intercom: config error: \(error)\n".utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
