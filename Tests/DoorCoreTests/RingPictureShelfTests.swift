import Testing
@testable import DoorCore

@Suite struct RingPictureShelfTests {
    let minute: Int64 = 60_000

    @Test func keepsTheLastFewAndDropsTheOldestFirst() {
        var shelf = RingPictureShelf(capacity: 3, maxAgeMillis: 10 * minute)
        for ring in 1...4 { shelf.keep(id: "ring\(ring)", jpeg: [UInt8(ring)], now: Int64(ring) * 1000) }
        #expect(shelf.count == 3)
        #expect(shelf.picture(id: "ring1", now: 5000) == nil)
        #expect(shelf.picture(id: "ring2", now: 5000) == [2])
        #expect(shelf.picture(id: "ring4", now: 5000) == [4])
        #expect(shelf.picture(id: "ring5", now: 5000) == nil)
    }

    @Test func forgetsAPictureOlderThanItsAge() {
        var shelf = RingPictureShelf(capacity: 4, maxAgeMillis: 15 * minute)
        shelf.keep(id: "old", jpeg: [1, 2, 3], now: 0)
        shelf.keep(id: "new", jpeg: [4], now: 10 * minute)
        #expect(shelf.picture(id: "old", now: 15 * minute) == [1, 2, 3])  // exactly its age: still there
        #expect(shelf.picture(id: "old", now: 15 * minute + 1) == nil)
        #expect(shelf.count == 1)
        #expect(shelf.picture(id: "new", now: 25 * minute) == [4])
        #expect(shelf.picture(id: "new", now: 25 * minute + 1) == nil)
        #expect(shelf.count == 0)
    }

    @Test func theSameIDReplacesAndAnEmptyPictureIsNotKept() {
        var shelf = RingPictureShelf()
        shelf.keep(id: "a", jpeg: [1], now: 0)
        shelf.keep(id: "a", jpeg: [2], now: 1)
        #expect(shelf.count == 1)
        #expect(shelf.picture(id: "a", now: 2) == [2])
        shelf.keep(id: "a", jpeg: [], now: 3)
        #expect(shelf.picture(id: "a", now: 4) == nil)
    }

    @Test func onlyBase64URLIDsAreValid() {
        #expect(RingPictureShelf.isValidID("AbC-_09xyzQW"))
        for bad in ["", "../x", "a b", "a/b", "ü", String(repeating: "a", count: 65), "a=", "a.b"] {
            #expect(!RingPictureShelf.isValidID(bad), "\(bad)")
        }
    }
}
