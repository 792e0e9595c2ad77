import CGLib
import Glibc
import DoorCore
import MainLoop

/// One client of the `ControlServer`: a non-blocking stream socket watched on the GLib loop, with its
/// partial input line and the output it could not write yet.
@GLibActor
final class ControlConnection {
    let id: Int
    /// Receives every `{"cmd":"events"}`-style published line.
    var subscribed = false
    private(set) var isClosed = false
    /// No more requests are read; the connection closes once its output is written.
    private(set) var isClosing = false

    private let fd: Int32
    private var input: LineBuffer
    private var output: [UInt8] = []
    private var outputStart = 0
    private let maxBufferedBytes: Int
    private var readWatch: FDWatch?
    private var writeWatch: FDWatch?
    private let onItem: @GLibActor (ControlConnection, LineBuffer.Item) -> Void
    private let onClose: @GLibActor (ControlConnection) -> Void

    init(id: Int, fd: Int32, maxLineBytes: Int, maxBufferedBytes: Int,
         onItem: @escaping @GLibActor (ControlConnection, LineBuffer.Item) -> Void,
         onClose: @escaping @GLibActor (ControlConnection) -> Void) {
        self.id = id
        self.fd = fd
        self.input = LineBuffer(maxLineBytes: maxLineBytes)
        self.maxBufferedBytes = maxBufferedBytes
        self.onItem = onItem
        self.onClose = onClose
        readWatch = FDWatch(fd: fd, conditions: [G_IO_IN, G_IO_HUP, G_IO_ERR]) { [weak self] _ in
            self?.readable() ?? false
        }
    }

    var bufferedBytes: Int { output.count - outputStart }

    /// Replies in the order of their requests, even when one is given later (after a file was written):
    /// `reserveReply` takes the next place, `reply` fills one, and every filled place in order goes out.
    private var replies = (next: 0, toWrite: 0, filled: [Int: [UInt8]]())

    func reserveReply() -> Int {
        defer { replies.next += 1 }
        return replies.next
    }

    func reply(_ place: Int, _ bytes: [UInt8]) {
        guard place >= replies.toWrite, replies.filled[place] == nil else { return }
        replies.filled[place] = bytes
        while let ready = replies.filled.removeValue(forKey: replies.toWrite) {
            replies.toWrite += 1
            enqueue(ready)
        }
    }

    /// Writes `bytes` now as far as the socket takes them and buffers the rest; a client that lets more than
    /// `maxBufferedBytes` pile up is dropped.
    func enqueue(_ bytes: [UInt8]) {
        guard !isClosed, !isClosing, !bytes.isEmpty else { return }
        if bufferedBytes == 0 {
            output = bytes
            outputStart = 0
        } else {
            output.append(contentsOf: bytes)
        }
        guard bufferedBytes <= maxBufferedBytes else {
            Log.warning("control", "control client \(id) does not read its replies (over \(maxBufferedBytes) bytes); dropping it")
            disconnect()
            return
        }
        guard flush() else { return }
        if bufferedBytes > 0, writeWatch == nil {
            writeWatch = FDWatch(fd: fd, conditions: [G_IO_OUT, G_IO_HUP, G_IO_ERR]) { [weak self] _ in
                self?.writable() ?? false
            }
        }
    }

    /// Stops reading; closes once the buffered output is written.
    func finish() {
        isClosing = true
        readWatch?.cancel()
        readWatch = nil
        if bufferedBytes == 0 { disconnect() }
    }

    /// Closes the socket now, whatever is buffered, and tells the server.
    func disconnect() {
        guard !isClosed else { return }
        isClosed = true
        readWatch?.cancel()
        writeWatch?.cancel()
        readWatch = nil
        writeWatch = nil
        Glibc.close(fd)
        onClose(self)
    }

    isolated deinit {
        if !isClosed {
            readWatch?.cancel()
            writeWatch?.cancel()
            Glibc.close(fd)
        }
    }

    private func readable() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        // A bounded number of reads per wake-up, so one busy client cannot starve the loop.
        for _ in 0..<8 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                input.append(chunk[..<count])
                while !isClosed, !isClosing, let item = input.next() { onItem(self, item) }
                if isClosed || isClosing { return false }
            } else if count == 0 {
                // The client closed its side: answer a last unterminated request, then close.
                if let item = input.remainder() { onItem(self, item) }
                if !isClosed { finish() }
                return false
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return true
            } else {
                disconnect()
                return false
            }
        }
        return true
    }

    private func writable() -> Bool {
        guard flush() else { return false }
        guard bufferedBytes == 0 else { return true }
        writeWatch = nil
        if isClosing { disconnect() }
        return false
    }

    /// Sends buffered output until the socket would block. False when the client is gone (and dropped).
    private func flush() -> Bool {
        while bufferedBytes > 0 {
            let sent = output.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + outputStart, bufferedBytes, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent > 0 {
                outputStart += sent
            } else if sent < 0, errno == EINTR {
                continue
            } else if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                disconnect()
                return false
            }
        }
        if bufferedBytes == 0 {
            output = []
            outputStart = 0
        } else if outputStart > 64 * 1024, outputStart > output.count / 2 {
            output.removeFirst(outputStart)
            outputStart = 0
        }
        return true
    }
}
