import ArgumentParser

@main
struct IntercomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intercom",
        abstract: "A video intercom for the door: press the bell, scan the QR, talk.",
        subcommands: [RunCommand.self, ControlCommand.self, CheckConfigCommand.self, ProbeCommand.self,
                      SignalingServerCommand.self, WebCommand.self],
        defaultSubcommand: RunCommand.self)
}
