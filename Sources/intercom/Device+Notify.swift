import Intercom
import MainLoop
import Notify

extension Device {
    /// The notifier for `notify.targets`, or nil when there are none. A CA file that does not load stops the
    /// start like any other config mistake (exit 78), naming `notify.ca_file`.
    static func makeNotifier(_ configuration: Configuration) throws -> Notifier? {
        guard !configuration.notify.targets.isEmpty else { return nil }
        let notifier: Notifier
        do { notifier = try Notifier(configuration.notify) } catch {
            throw configuration.error(.hardware, key: "notify.ca_file", error.context)
        }
        let names = notifier.targets.map { "\($0.kind.rawValue) \(HTTPRequest.loggableOrigin($0.url))" }
        Log.info("notify", "on every ring: \(names.joined(separator: ", "))")
        return notifier
    }
}
