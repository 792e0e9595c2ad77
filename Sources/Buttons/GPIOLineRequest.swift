import CGpiod
import Glibc
import DoorCore

/// Owns one input line requested for both-edge events (`gpiod_line_request` with
/// `GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES`), given back with `gpiod_line_release` when released.
final class GPIOLineRequest {
    /// The line belongs to the chip, which must stay open while the request lives.
    let chip: GPIOChip
    let line: OpaquePointer
    let offset: UInt32

    init(chip: GPIOChip, offset: UInt32, button: Button, activeLow: Bool, pullUp: Bool, consumer: String)
        throws(ButtonsError) {
        let what = "GPIO line \(offset) (\(button.rawValue)) on \(chip.name) '\(chip.label)'"
        guard offset < chip.lineCount, let line = gpiod_chip_get_line(chip.pointer, offset) else {
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
        guard rc == 0 else {
            let code = errno
            switch code {
            case EBUSY:
                let user = gpiod_line_consumer(line).map { String(cString: $0) } ?? "another process"
                throw ButtonsError(.lineUnavailable, "\(what) is busy (used by '\(user)')")
            case EACCES, EPERM:
                throw ButtonsError(.lineUnavailable, "\(what): permission denied (add the user to the gpio group)")
            case EINVAL, EOPNOTSUPP:
                throw ButtonsError(.lineUnavailable,
                                   "\(what) cannot be requested with these flags (pull-up needs Linux 5.5+): \(String(cString: strerror(code)))")
            default:
                throw ButtonsError(.lineUnavailable, "\(what) cannot be requested: \(String(cString: strerror(code)))")
            }
        }
        self.chip = chip
        self.line = line
        self.offset = offset
    }

    deinit { gpiod_line_release(line) }

    /// The event file descriptor to watch (`gpiod_line_event_get_fd`).
    var eventFD: Int32 { gpiod_line_event_get_fd(line) }

    /// Reads one queued edge (`gpiod_line_event_read`; call only when the fd is readable). With active-low set
    /// the kernel already reports "rising" for the line becoming active, i.e. pressed. Nil on error (errno).
    func readEdge() -> (level: Debouncer.Level, millis: Int64)? {
        var event = gpiod_line_event()
        guard gpiod_line_event_read(line, &event) == 0 else { return nil }
        let millis = Int64(event.ts.tv_sec) * 1000 + Int64(event.ts.tv_nsec) / 1_000_000
        return (event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE) ? .pressed : .released, millis)
    }
}
