import Testing
@testable import Control

@Suite struct LineBufferTests {
    @Test func linesSplitAcrossChunksAndCRLF() {
        var buffer = LineBuffer(maxLineBytes: 16)
        buffer.append(Array(#"{"cmd":"#.utf8))
        #expect(buffer.next() == nil)
        buffer.append(Array("\"a\"}\r\nsecond\nthi".utf8))
        #expect(buffer.next() == .line(Array(#"{"cmd":"a"}"#.utf8)))
        #expect(buffer.next() == .line(Array("second".utf8)))
        #expect(buffer.next() == nil)
        #expect(buffer.remainder() == .line(Array("thi".utf8)))
        #expect(buffer.isEmpty)
    }

    @Test func tooLongWithOrWithoutNewline() {
        var buffer = LineBuffer(maxLineBytes: 4)
        buffer.append(Array("abcd\nabcde\n".utf8))
        #expect(buffer.next() == .line(Array("abcd".utf8)))
        #expect(buffer.next() == .tooLong)
        var endless = LineBuffer(maxLineBytes: 4)
        endless.append(Array("abcd".utf8))
        #expect(endless.next() == nil)
        endless.append(Array("e".utf8))
        #expect(endless.next() == .tooLong)
    }
}
