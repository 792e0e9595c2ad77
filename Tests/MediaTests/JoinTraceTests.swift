import Testing
@testable import Media

/// The join trace keeps each step once, at its first arrival, in the order the steps happened.
@Suite struct JoinTraceTests {
    @Test func eachStepIsKeptOnceInTheOrderItHappened() {
        var trace = JoinTrace()
        #expect(trace.summary.isEmpty && !trace.has("answer"))
        trace.mark("answer")
        trace.mark("first candidate")
        trace.mark("answer")
        #expect(trace.has("answer") && trace.has("first candidate") && !trace.has("ICE connected"))
        let steps = trace.summary.split(separator: ",").map { $0.drop { $0 == " " } }
        #expect(steps.count == 2, "\(trace.summary)")
        #expect(steps.first?.hasPrefix("answer ") == true && steps.last?.hasPrefix("first candidate ") == true)
        let millis = steps.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        #expect(millis.count == 2 && millis[0] >= 0 && millis[1] >= millis[0], "\(trace.summary)")
    }
}
