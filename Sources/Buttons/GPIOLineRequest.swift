import CGpiod
import Glibc
import DoorCore

/// Owns one input line requested for both-edge events, given back when released.
/// - v1 (libgpiod 1.6): `gpiod_line_request` with `GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES` and the active-low and
///   pull-up flags; events come from `gpiod_line_event_read`; released with `gpiod_line_release`.
/// - v2 (libgpiod 2.x): line settings + line config + request config → `gpiod_chip_request_lines`; events
///   come through a one-event `gpiod_edge_event_buffer` the request owns too; released with
///   `gpiod_line_request_release`.
/// Both hand `readEdge` the same decoded `GPIOEdge`, so debounce and long press do not depend on the API.
final class GPIOLineRequest {
    /// The line belongs to the chip, which must stay open while the request lives.
    let chip: GPIOChip
    let offset: UInt32
    #if LIBGPIOD_V2
    private let request: OpaquePointer
    private let events: OpaquePointer
    #else
    private let line: OpaquePointer
    #endif

    init(chip: GPIOChip, offset: UInt32, button: Button, activeLow: Bool, pullUp: Bool, consumer: String)
        throws(ButtonsError) {
        let what = "GPIO line \(offset) (\(button.rawValue)) on \(chip.name) '\(chip.label)'"
        guard offset < chip.lineCount else {
            throw ButtonsError(.lineUnavailable, "\(what) does not exist (the chip has \(chip.lineCount) lines)")
        }
        #if LIBGPIOD_V2
        guard let events = gpiod_edge_event_buffer_new(1) else {
            throw ButtonsError(.lineUnavailable, "\(what) cannot be requested: \(String(cString: strerror(errno)))")
        }
        guard let request = Self.request(chip: chip, offset: offset, activeLow: activeLow, pullUp: pullUp,
                                         consumer: consumer) else {
            let code = errno
            gpiod_edge_event_buffer_free(events)
            throw Self.requestError(code, what: what, chip: chip, offset: offset)
        }
        self.request = request
        self.events = events
        #else
        guard let line = gpiod_chip_get_line(chip.pointer, offset) else {
            throw ButtonsError(.lineUnavailable, "\(what) does not exist (the chip has \(chip.lineCount) lines)")
        }
        var flags: Int32 = 0
        if activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
        if pullUp { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP) }
        let rc = consumer.withCString { name in
            var config = gpiod_line_request_config(consumer: name,
                                                   request_type: Int32(GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES),
                                                   flags: flags)
            return gpiod_line_request(line, &config, 0)
        }
        guard rc == 0 else { throw Self.requestError(errno, what: what, chip: chip, offset: offset) }
        self.line = line
        #endif
        self.chip = chip
        self.offset = offset
    }

    #if LIBGPIOD_V2
    /// The v2 request: the settings and both configs are only needed for the call and freed right after it.
    private static func request(chip: GPIOChip, offset: UInt32, activeLow: Bool, pullUp: Bool,
                                consumer: String) -> OpaquePointer? {
        guard let settings = gpiod_line_settings_new() else { return nil }
        defer { gpiod_line_settings_free(settings) }
        guard let lineConfig = gpiod_line_config_new() else { return nil }
        defer { gpiod_line_config_free(lineConfig) }
        guard let requestConfig = gpiod_request_config_new() else { return nil }
        defer { gpiod_request_config_free(requestConfig) }
        guard gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT) == 0,
              gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_BOTH) == 0,
              !pullUp || gpiod_line_settings_set_bias(settings, GPIOD_LINE_BIAS_PULL_UP) == 0 else { return nil }
        gpiod_line_settings_set_active_low(settings, activeLow)
        var offsets = [offset]
        guard gpiod_line_config_add_line_settings(lineConfig, &offsets, 1, settings) == 0 else { return nil }
        gpiod_request_config_set_consumer(requestConfig, consumer)
        return gpiod_chip_request_lines(chip.pointer, requestConfig, lineConfig)
    }

    deinit {
        gpiod_line_request_release(request)
        gpiod_edge_event_buffer_free(events)
    }

    /// The event file descriptor to watch (`gpiod_line_request_get_fd`).
    var eventFD: Int32 { gpiod_line_request_get_fd(request) }

    /// Reads one queued edge (`gpiod_line_request_read_edge_events`; call only when the fd is readable).
    /// Nil on error (errno).
    func readEdge() -> GPIOEdge? {
        guard gpiod_line_request_read_edge_events(request, events, 1) == 1,
              let event = gpiod_edge_event_buffer_get_event(events, 0) else { return nil }
        return GPIOEdge(rising: gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE,
                        nanoseconds: Int64(clamping: gpiod_edge_event_get_timestamp_ns(event)))
    }
    #else
    deinit { gpiod_line_release(line) }

    /// The event file descriptor to watch (`gpiod_line_event_get_fd`).
    var eventFD: Int32 { gpiod_line_event_get_fd(line) }

    /// Reads one queued edge (`gpiod_line_event_read`; call only when the fd is readable). Nil on error (errno).
    func readEdge() -> GPIOEdge? {
        var event = gpiod_line_event()
        guard gpiod_line_event_read(line, &event) == 0 else { return nil }
        return GPIOEdge(rising: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE),
                        nanoseconds: Int64(event.ts.tv_sec) * 1_000_000_000 + Int64(event.ts.tv_nsec))
    }
    #endif

    /// The error for a failed request, worded the same on both APIs; a busy line names who holds it.
    static func requestError(_ code: Int32, what: String, chip: GPIOChip, offset: UInt32) -> ButtonsError {
        switch code {
        case EBUSY:
            let user = chip.lineInfo(offset).consumer ?? "another process"
            return ButtonsError(.lineUnavailable, "\(what) is busy (used by '\(user)')")
        case EACCES, EPERM:
            return ButtonsError(.lineUnavailable, "\(what): permission denied (add the user to the gpio group)")
        case EINVAL, EOPNOTSUPP:
            return ButtonsError(.lineUnavailable,
                                "\(what) cannot be requested with these flags (pull-up needs Linux 5.5+): \(String(cString: strerror(code)))")
        default:
            return ButtonsError(.lineUnavailable, "\(what) cannot be requested: \(String(cString: strerror(code)))")
        }
    }
}
