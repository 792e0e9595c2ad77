/// Fixed fixtures: JSON values a page sends with `conn.send(…)`, and the BinaryPack bytes a PeerJS browser
/// puts on the wire for them (worked out by the JS packer's rules in docs/signaling.md#binarypack; keys are in
/// alphabetical order so the JS insertion order and ours agree).
enum DataFixtures {
    struct Fixture {
        let json: String
        let packed: String
    }

    static let json: [Fixture] = [
        Fixture(json: #"{"t":"chat","text":"hi"}"#,
                packed: "82 b1 74 b4 63 68 61 74 b4 74 65 78 74 b2 68 69"),
        Fixture(json: #"{"muted":true,"t":"status"}"#,
                packed: "82 b5 6d 75 74 65 64 c3 b1 74 b6 73 74 61 74 75 73"),
        Fixture(json: #"{"__peerData":{"type":"close"}}"#,
                packed: "81 ba 5f 5f 70 65 65 72 44 61 74 61 81 b4 74 79 70 65 b5 63 6c 6f 73 65"),
        Fixture(json: "[1,-1,255,-129,65535,-32769,4294967295,-2147483649,0.25]",
                packed: "99 01 ff cc ff d1 ff 7f cd ff ff d2 ff ff 7f ff ce ff ff ff ff d3 ff ff ff ff 7f ff ff ff"
                    + " cb 3f d0 00 00 00 00 00 00"),
        Fixture(json: "null", packed: "c0"),
        Fixture(json: "[true,false,null]", packed: "93 c3 c2 c0"),
        Fixture(json: #""Grüße, 17 bytes""#,
                packed: "d8 00 11 47 72 c3 bc c3 9f 65 2c 20 31 37 20 62 79 74 65 73"),
        Fixture(json: #"{"a":[],"b":{}}"#, packed: "82 b1 61 90 b1 62 80"),
        Fixture(json: "-0.5", packed: "cb bf e0 00 00 00 00 00 00"),
        Fixture(json: "1e3", packed: "cd 03 e8"),
    ]
}
