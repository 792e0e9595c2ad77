import Synchronization

/// How many call and data sessions are alive, counted by the contexts their C callbacks hold
/// (`SessionLink`, `DataSessionContext`). A context goes only when the session is gone *and* GStreamer let go
/// of every signal handler, probe and bus watch of its pipeline, so a count above 0 after every call ended
/// is a leak. `intercom run` prints it at exit.
public enum LiveSessions {
    private static let count = Atomic<Int>(0)

    public static var current: Int { count.load(ordering: .relaxed) }

    static func opened() { count.add(1, ordering: .relaxed) }
    static func closed() { count.subtract(1, ordering: .relaxed) }
}
