// A test peer that speaks the PeerJS wire the way the 1.4 client does, written from the protocol for
// suites/e2e/test_peerjs14.py (no client code reused). What makes 1.4 different from 1.5, and what this page
// copies on purpose:
//   * payloads of OFFER and ANSWER carry `browser` ("chrome");
//   * a media call has no data channel: the page closes a call only when ICE reaches 'failed' or 'closed',
//     or when a LEAVE from the peer arrives;
//   * the LEAVE handler walks the peer's connection list and closes each connection, and closing removes it
//     from that same list, so the connection after a closed one is skipped; then the list is dropped;
//   * a data connection closes (and leaves the list) when its channel closes;
//   * `json` data goes as text messages and is read with JSON.parse (a binary message cannot be read).
// With ?framing=1.5 the page instead leaves out `browser` and sends and reads json as binary UTF-8, as 1.5 does.
//
// Everything the test reads is on window.peer14: {id, open, connections: [{kind, connectionId, open, closedAt}],
// received: [...], errors: [...]}.

const params = new URLSearchParams(location.search);
const framing = params.get('framing') ?? '1.4';
const state = (window.peer14 = { id: params.get('id'), open: false, connections: [], received: [], errors: [] });
const byPeer = new Map(); // peer → [connection], the list LEAVE walks
const byId = new Map(); // connectionId → connection
let socket;

function send(message) {
  socket.send(JSON.stringify(message));
}

function browserField() {
  return framing === '1.4' ? { browser: 'chrome' } : {};
}

function track(conn) {
  const list = byPeer.get(conn.peer) ?? [];
  list.push(conn);
  byPeer.set(conn.peer, list);
  byId.set(conn.connectionId, conn);
  conn.report = { kind: conn.kind, connectionId: conn.connectionId, open: false, closedAt: null };
  state.connections.push(conn.report);
}

function close(conn) {
  if (conn.closed) return;
  conn.closed = true;
  conn.report.open = false;
  conn.report.closedAt = Date.now();
  conn.channel?.close();
  conn.pc.close();
  const list = byPeer.get(conn.peer);
  const index = list ? list.indexOf(conn) : -1;
  if (index >= 0) list.splice(index, 1);
  byId.delete(conn.connectionId);
}

function makePc(conn) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.onicecandidate = ({ candidate }) => {
    if (!candidate) return;
    send({ type: 'CANDIDATE', dst: conn.peer, payload: {
      candidate: { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex },
      type: conn.kind, connectionId: conn.connectionId } });
  };
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === 'connected' && conn.kind === 'media') conn.report.open = true;
    if (pc.iceConnectionState === 'failed' || pc.iceConnectionState === 'closed') close(conn);
  };
  return pc;
}

function encode(value) {
  const text = JSON.stringify(value);
  return framing === '1.4' ? text : new TextEncoder().encode(text);
}

function watchChannel(conn, channel) {
  conn.channel = channel;
  channel.binaryType = 'arraybuffer';
  channel.onopen = () => { conn.report.open = true; };
  channel.onclose = () => close(conn);
  channel.onmessage = ({ data }) => {
    try {
      if (framing === '1.4') {
        if (typeof data !== 'string') throw new Error('a binary message on a json connection (1.4 reads text only)');
        state.received.push(JSON.parse(data));
      } else {
        if (typeof data === 'string') throw new Error('a text message on a json connection (1.5 reads binary)');
        state.received.push(JSON.parse(new TextDecoder().decode(data)));
      }
    } catch (error) {
      state.errors.push(String(error));
    }
  };
}

// --- what the test calls -----------------------------------------------------------------------------------

/** Opens a json data connection to `peer` (as connect(peer, {serialization: 'json'})). */
window.peer14Connect = async (peer) => {
  const conn = { kind: 'data', peer, connectionId: 'dc_' + Math.random().toString(36).slice(2, 14) };
  track(conn);
  conn.pc = makePc(conn);
  watchChannel(conn, conn.pc.createDataChannel(conn.connectionId, { ordered: true }));
  const offer = await conn.pc.createOffer();
  await conn.pc.setLocalDescription(offer);
  send({ type: 'OFFER', dst: peer, payload: { sdp: { type: 'offer', sdp: offer.sdp }, type: 'data',
    connectionId: conn.connectionId, label: conn.connectionId, reliable: true, serialization: 'json',
    ...browserField() } });
  return conn.connectionId;
};

/** Calls `peer` with a synthetic picture and tone (as call(peer, stream)): no data channel. */
window.peer14Call = async (peer) => {
  const conn = { kind: 'media', peer, connectionId: 'mc_' + Math.random().toString(36).slice(2, 14) };
  track(conn);
  conn.pc = makePc(conn);
  const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 240 });
  const paint = canvas.getContext('2d');
  setInterval(() => { paint.fillStyle = `hsl(${Date.now() / 10 % 360} 80% 50%)`; paint.fillRect(0, 0, 320, 240); }, 50);
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  const sink = audio.createMediaStreamDestination();
  tone.connect(sink);
  tone.start();
  const stream = new MediaStream([...canvas.captureStream(20).getVideoTracks(), ...sink.stream.getAudioTracks()]);
  for (const t of stream.getTracks()) conn.pc.addTrack(t, stream);
  const offer = await conn.pc.createOffer();
  await conn.pc.setLocalDescription(offer);
  send({ type: 'OFFER', dst: peer, payload: { sdp: { type: 'offer', sdp: offer.sdp }, type: 'media',
    connectionId: conn.connectionId, metadata: { name: 'PeerJS 1.4 peer' }, ...browserField() } });
  return conn.connectionId;
};

/** Sends a value on every open data connection. */
window.peer14Send = (value) => {
  let sent = 0;
  for (const conn of byId.values()) {
    if (conn.kind === 'data' && conn.channel?.readyState === 'open') {
      conn.channel.send(encode(value));
      sent += 1;
    }
  }
  return sent;
};

// --- the wire ------------------------------------------------------------------------------------------------

async function onOffer(src, payload) {
  if (payload.type !== 'data') return; // this test peer takes data connections only
  const conn = { kind: 'data', peer: src, connectionId: payload.connectionId };
  track(conn);
  conn.pc = makePc(conn);
  conn.pc.ondatachannel = ({ channel }) => watchChannel(conn, channel);
  await conn.pc.setRemoteDescription(payload.sdp);
  const answer = await conn.pc.createAnswer();
  await conn.pc.setLocalDescription(answer);
  send({ type: 'ANSWER', dst: src, payload: { sdp: { type: 'answer', sdp: answer.sdp }, type: 'data',
    connectionId: conn.connectionId, ...browserField() } });
}

function onLeave(src) {
  // As 1.4 does: closing removes the connection from the list being walked (the next one is skipped), and
  // then the whole list is forgotten.
  const list = byPeer.get(src) ?? [];
  for (let index = 0; index < list.length; index += 1) close(list[index]);
  byPeer.delete(src);
}

function onMessage({ data }) {
  const message = JSON.parse(data);
  const payload = message.payload ?? {};
  const conn = byId.get(payload.connectionId);
  switch (message.type) {
    case 'OPEN':
      state.open = true;
      document.getElementById('status').textContent = 'open';
      break;
    case 'OFFER':
      onOffer(message.src, payload).catch((error) => state.errors.push(String(error)));
      break;
    case 'ANSWER':
      conn?.pc.setRemoteDescription(payload.sdp).catch((error) => state.errors.push(String(error)));
      break;
    case 'CANDIDATE':
      conn?.pc.addIceCandidate(payload.candidate).catch((error) => state.errors.push(String(error)));
      break;
    case 'LEAVE':
    case 'EXPIRE':
      if (message.type === 'LEAVE') onLeave(message.src);
      break;
    default:
      break;
  }
}

socket = new WebSocket(`${params.get('server')}/peerjs?key=peerjs&id=${state.id}&token=${Math.random().toString(36).slice(2)}&version=1.4.7`);
socket.onmessage = onMessage;
setInterval(() => socket.readyState === WebSocket.OPEN && send({ type: 'HEARTBEAT' }), 5000);
