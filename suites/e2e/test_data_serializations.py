"""PeerJS data connections with every serialization, between the real web client and the door.

The page is in a call with the door (the real join flow), then opens more data connections to it through its
own DataConnection module (the `intercomTest.openDataConnection` hook): `binary`, `json` as PeerJS 1.5 writes
it (binary frames), `json` as PeerJS 1.4 writes it (text frames, `browser` in the OFFER) and `raw`. A chat
message goes each way on each, with accents and emoji, and a long one (over BinaryPack's 16 300-byte chunk
size) each way over `binary`. A spy on the page's RTCDataChannels records the kind and size of every frame, so
the test sees that the door answers in the frame kind the peer uses and that long messages go in chunks.
"""

import json

from polling import poll
from test_call import CALL_TIMEOUT, join, ring
from test_chat import next_event
from test_web_client import hooks

# Every RTCDataChannel the page creates from now on records what it sends and receives, by label.
SPY_JS = """
if (!window.channelLog) {
  window.channelLog = {};
  const kind = (data) => (typeof data === 'string' ? 'text' : 'binary');
  const size = (data) => (typeof data === 'string' ? new TextEncoder().encode(data).length : data.byteLength);
  const create = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (label, options) {
    const channel = create.call(this, label, options);
    const log = (window.channelLog[label] = {sent: [], received: []});
    const send = channel.send;
    channel.send = function (data) {
      log.sent.push([kind(data), size(data)]);
      return send.call(this, data);
    };
    channel.addEventListener('message', (event) => log.received.push([kind(event.data), size(event.data)]));
    return channel;
  };
}
"""

# Opens one connection per (name, options); each keeps the values it decodes in window.testData[name].
OPEN_JS = """
window.testData = {};
window.testConns = {};
for (const [name, options] of Object.entries(arguments[0])) {
  const conn = window.intercomTest.openDataConnection(options);
  window.testConns[name] = conn;
  window.testData[name] = {label: conn.label, serialization: conn.serialization, open: false, values: [], ended: null};
  conn.addEventListener('open', () => { window.testData[name].open = true; });
  conn.addEventListener('data', (event) => window.testData[name].values.push(event.detail));
  conn.addEventListener('ended', (event) => { window.testData[name].ended = event.detail.reason; });
}
"""

CONNECTIONS = {
    "binary": {"serialization": "binary", "metadata": {"purpose": "chat"}},
    "json-1.5": {"serialization": "json"},
    "json-1.4": {"serialization": "json", "jsonText": True},
    "raw": {"serialization": "raw"},
}

# A person's 1000-character limit, in bytes far over one chunk: each family emoji is one character (one
# grapheme, as the door and a person count) of 25 UTF-8 bytes.
FAMILY = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
LONG_TEXT = "Les voisins arrivent : " + FAMILY * 700 + " — à tout de suite ✓"


def chat_value(text):
    return {"t": "chat", "text": text}


def test_data_connections_with_every_serialization(device, browser):
    link = ring(device)
    join(browser, link)
    poll(lambda: hooks(browser).get("chatOpen") is True, CALL_TIMEOUT, message="the page's own chat never opened")
    events = device.events(timeout=CALL_TIMEOUT)

    browser.execute_script(SPY_JS)
    browser.execute_script(OPEN_JS, CONNECTIONS)
    data = lambda: browser.execute_script("return window.testData;")
    poll(lambda: all(entry["open"] for entry in data().values()), CALL_TIMEOUT,
         message=lambda: f"not every data connection opened: {data()}")
    labels = {name: entry["label"] for name, entry in data().items()}
    log = lambda name: browser.execute_script("return window.channelLog[arguments[0]];", labels[name])

    # Door → page first: the 1.4 connection has sent nothing yet, so only its OFFER says to write text.
    greeting = "Bonjour ! Ici la porte d'entrée — Ørsted, naïve, façade 🚪🔔"
    assert device.control({"cmd": "chat", "text": greeting}) == {"ok": True}
    # The page announces files on its binary connection, and the door answers with what it takes (pictures,
    # docs/sharing.md): that answer is not a chat message.
    def chats(entry):
        return [v for v in entry["values"] if not (isinstance(v, dict) and v.get("t") == "features")]
    poll(lambda: all(chats(entry) for entry in data().values()), 10,
         message=lambda: f"the door's message did not reach every connection: {data()}")
    values = {name: chats(entry) for name, entry in data().items()}
    assert values["binary"] == [chat_value(greeting)], values
    assert values["json-1.5"] == [chat_value(greeting)], values
    assert values["json-1.4"] == [chat_value(greeting)], values
    # raw carries strings as they are: the door writes each message as its JSON text.
    assert len(values["raw"]) == 1 and json.loads(values["raw"][0]) == chat_value(greeting), values
    assert log("binary")["received"][0][0] == "binary", log("binary")
    assert log("json-1.5")["received"] == [["binary", log("json-1.5")["received"][0][1]]], log("json-1.5")
    assert log("json-1.4")["received"] == [["text", log("json-1.4")["received"][0][1]]], log("json-1.4")
    assert log("raw")["received"][0][0] == "text", log("raw")

    # Page → door on each connection, in the page's own serialization.
    texts = {name: f"{name}: ¡Hola! Ça va ? 😀👍🏽 — Grüße" for name in CONNECTIONS}
    browser.execute_script("""
        for (const [name, text] of Object.entries(arguments[0])) {
          const value = {t: 'chat', text};
          if (!window.testConns[name].send(name === 'raw' ? JSON.stringify(value) : value)) throw new Error(name);
        }
    """, texts)
    got = set()
    while got != set(texts.values()):
        event = next_event(events, lambda e: e.get("event") == "chat", 10)
        assert event["from"] == "visitor" and event["text"] in texts.values(), event
        got.add(event["text"])
    assert log("json-1.5")["sent"][0][0] == "binary", log("json-1.5")
    assert log("json-1.4")["sent"][0][0] == "text", log("json-1.4")
    assert log("raw")["sent"][0][0] == "text", log("raw")

    # A long message each way over binary: chunked by the page, reassembled by the door, and back.
    assert len(LONG_TEXT.encode()) > 16_300
    sent_before = len(log("binary")["sent"])
    assert browser.execute_script("return window.testConns.binary.send({t: 'chat', text: arguments[0]});", LONG_TEXT)
    event = next_event(events, lambda e: e.get("event") == "chat", 10)
    assert event == {"event": "chat", "from": "visitor", "text": LONG_TEXT}, {**event, "text": event["text"][:80]}
    assert len(log("binary")["sent"]) - sent_before >= 2, log("binary")

    received_before = len(log("binary")["received"])
    count_before = len(data()["binary"]["values"])
    assert device.control({"cmd": "chat", "text": LONG_TEXT}) == {"ok": True}
    poll(lambda: len(data()["binary"]["values"]) > count_before, 10,
         message=lambda: f"the door's long message never arrived: {log('binary')}")
    assert data()["binary"]["values"][-1] == chat_value(LONG_TEXT)
    pieces = log("binary")["received"][received_before:]
    assert len(pieces) >= 2 and all(kind == "binary" and size <= 16_400 for kind, size in pieces), pieces

    # Nothing on these connections ended along the way.
    assert all(entry["ended"] is None for entry in data().values()), data()
