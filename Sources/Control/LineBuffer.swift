/// Splits a byte stream into newline-terminated lines, refusing any line longer than `maxLineBytes`.
struct LineBuffer {
    enum Item: Equatable {
        case line([UInt8])
        case tooLong
    }

    let maxLineBytes: Int
    private var bytes: [UInt8] = []
    /// Bytes before this index hold no newline (so a slow sender costs no rescans).
    private var scanned = 0

    init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    var isEmpty: Bool { bytes.isEmpty }

    mutating func append(_ chunk: some Sequence<UInt8>) { bytes.append(contentsOf: chunk) }

    /// The next complete line without its `\n` (and `\r`), `.tooLong` once a line exceeds the limit, or nil
    /// until more bytes arrive.
    mutating func next() -> Item? {
        guard let newline = bytes[scanned...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = bytes.count
            return bytes.count > maxLineBytes ? .tooLong : nil
        }
        var line = Array(bytes[..<newline])
        bytes.removeSubrange(...newline)
        scanned = 0
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line.count > maxLineBytes ? .tooLong : .line(line)
    }

    /// What is left after the sender closed: a last line without its newline, if any.
    mutating func remainder() -> Item? {
        guard !bytes.isEmpty else { return nil }
        defer { bytes = []; scanned = 0 }
        return bytes.count > maxLineBytes ? .tooLong : .line(bytes)
    }
}
