// Injected by bench/run.py into every page it opens (CDP Page.addScriptToEvaluateOnNewDocument), after a line
// that sets window.__benchConfig. Nothing here ships with the web page; it only watches and drives it.
//
//   autoJoin     click #join the moment a ?room= page is ready (opening the link with no think time)
//   autoAnswer   click #answer the moment a call rings (what the door does on its own)
//   camera       {width, height}: the fake camera asked for at this size
//   stampCamera  the camera is a canvas with the time stamped into it (see ClockStamp.swift: same pattern)
//   readStamps   read the stamp from each decoded remote picture into __bench.stamps (ms, Date.now() - stamp)
//   relay        every RTCPeerConnection uses relay candidates only (iceTransportPolicy 'relay')
//
// __bench.firstFrameAt is performance.now() of the first remote picture presented (requestVideoFrameCallback),
// __bench.joinAt that of the #join click; performance.now() counts from the start of the navigation.
(() => {
  const config = window.__benchConfig || {};
  const bench = { firstFrameAt: null, joinAt: null, answerAt: null, stamps: [], stampsRejected: 0, marks: {} };
  window.__bench = bench;
  // The first time each step of a join happened (performance.now()): the runner's join breakdown.
  const mark = (name) => { bench.marks[name] ??= performance.now(); };

  const BITS = 42;
  const ROWS_PER_HEIGHT = 16;
  const MODULUS = 2 ** BITS;

  function unwrap(stamp, now) {
    let full = now - (now % MODULUS) + stamp;
    if (full > now + MODULUS / 2) full -= MODULUS;
    return full;
  }

  // --- the peer connections, for getStats() -----------------------------------------------------------
  // Every RTCPeerConnection the page makes is kept, so the runner can read the video call's statistics.
  const NativePeerConnection = window.RTCPeerConnection;
  const connections = [];
  window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(...args) {
      if (config.relay) args[0] = { ...(args[0] || {}), iceTransportPolicy: 'relay' };
      super(...args);
      connections.push(this);
      mark('peer connection');
      this.addEventListener('iceconnectionstatechange', () => {
        if (this.iceConnectionState === 'checking') mark('ICE checking');
        if (this.iceConnectionState === 'connected') mark('ICE connected');
      });
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected') mark('DTLS connected');
      });
    }

    async setLocalDescription(...args) {
      mark(`local ${args[0]?.type ?? 'description'}`);
      return super.setLocalDescription(...args);
    }

    async setRemoteDescription(...args) {
      mark(`remote ${args[0]?.type ?? 'description'}`);
      return super.setRemoteDescription(...args);
    }
  };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      mark('signaling connect');
      this.addEventListener('open', () => mark('signaling open'));
      this.addEventListener('message', (event) => {
        if (typeof event.data === 'string' && event.data.includes('"OPEN"')) mark('signaling OPEN');
      });
    }
  };
  // Page load from the Navigation and Resource Timing entries: the HTML, the last module, config.json.
  bench.loadMarks = () => {
    const [navigation] = performance.getEntriesByType('navigation');
    const resources = performance.getEntriesByType('resource');
    const scripts = resources.filter((r) => r.name.endsWith('.js'));
    const config = resources.find((r) => r.name.includes('config.json'));
    const peerId = resources.find((r) => r.name.includes('/id?ts='));
    return {
      'HTML received': navigation?.responseEnd ?? null,
      'last module received': scripts.length ? Math.max(...scripts.map((r) => r.responseEnd)) : null,
      modules: scripts.length,
      'config.json requested': config?.startTime ?? null,
      'config.json received': config?.responseEnd ?? null,
      'DOM content loaded': navigation?.domContentLoadedEventEnd || null,
      'peer ID received': peerId?.responseEnd ?? null,
      ...bench.marks,
      'join clicked': bench.joinAt,
      'first frame': bench.firstFrameAt,
    };
  };
  const INBOUND = ['framesReceived', 'framesDecoded', 'framesDropped', 'keyFramesDecoded', 'jitterBufferDelay',
    'jitterBufferTargetDelay', 'jitterBufferMinimumDelay', 'jitterBufferEmittedCount', 'totalProcessingDelay',
    'totalDecodeTime', 'totalAssemblyTime', 'framesAssembledFromMultiplePackets', 'freezeCount',
    'totalFreezesDuration', 'totalInterFrameDelay', 'totalSquaredInterFrameDelay', 'jitter', 'packetsReceived',
    'packetsLost', 'nackCount', 'pliCount', 'firCount', 'frameWidth', 'frameHeight', 'framesPerSecond',
    'decoderImplementation'];
  const OUTBOUND = ['framesEncoded', 'framesSent', 'totalEncodeTime', 'totalPacketSendDelay', 'packetsSent',
    'keyFramesEncoded', 'hugeFramesSent', 'frameWidth', 'frameHeight', 'framesPerSecond', 'encoderImplementation',
    'qualityLimitationReason'];
  const pick = (stats, names) => Object.fromEntries(names.filter((n) => n in stats).map((n) => [n, stats[n]]));
  // The video figures of the live call: cumulative counters the runner subtracts between two readings.
  bench.videoStats = async () => {
    const result = { inbound: null, outbound: null, remoteOutbound: null, roundTripTime: null, at: performance.now() };
    for (const pc of connections) {
      if (pc.connectionState === 'closed' || pc.getReceivers().every((r) => r.track.kind !== 'video')) continue;
      const report = await pc.getStats();
      report.forEach((s) => {
        if (s.kind === 'video' && s.type === 'inbound-rtp') result.inbound = pick(s, INBOUND);
        if (s.kind === 'video' && s.type === 'outbound-rtp') result.outbound = pick(s, OUTBOUND);
        if (s.kind === 'video' && s.type === 'remote-outbound-rtp') {
          result.remoteOutbound = pick(s, ['packetsSent', 'bytesSent', 'reportsSent', 'roundTripTime']);
        }
        if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined) {
          result.roundTripTime = s.currentRoundTripTime;
        }
      });
    }
    return result;
  };

  // --- the camera ---------------------------------------------------------------------------------------
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const size = config.camera || { width: 640, height: 480 };
    if (!constraints.video) return original(constraints);
    if (!config.stampCamera) {
      return original({ ...constraints, video: { width: { ideal: size.width }, height: { ideal: size.height },
                                                 frameRate: { ideal: 30 } } });
    }
    const audio = constraints.audio ? await original({ audio: constraints.audio }) : new MediaStream();
    const canvas = document.createElement('canvas');
    canvas.width = size.width;
    canvas.height = size.height;
    const context = canvas.getContext('2d');
    const rowHeight = Math.floor(size.height / ROWS_PER_HEIGHT);
    let frame = 0;
    setInterval(() => {
      // Something that moves, so the encoder works as it would on a camera.
      frame += 1;
      context.fillStyle = '#203040';
      context.fillRect(0, 0, size.width, size.height);
      context.fillStyle = '#c08040';
      const x = (frame * 8) % size.width;
      context.fillRect(x, size.height / 3, size.width / 8, size.height / 3);
      const now = Date.now();
      for (let row = 0; row < 2; row += 1) {
        for (let bit = 0; bit < BITS; bit += 1) {
          const one = Math.floor(now / 2 ** (BITS - 1 - bit)) % 2 === 1;
          context.fillStyle = one !== (row === 1) ? '#ffffff' : '#000000';
          const x0 = Math.floor((bit * size.width) / BITS);
          const x1 = Math.floor(((bit + 1) * size.width) / BITS);
          context.fillRect(x0, row * rowHeight, x1 - x0, rowHeight);
        }
      }
    }, 1000 / 30);
    const video = canvas.captureStream(30).getVideoTracks();
    return new MediaStream([...audio.getAudioTracks(), ...video]);
  };

  // --- reading the remote picture ------------------------------------------------------------------------
  let reader = null;
  function readStamp(video) {
    const width = video.videoWidth;
    const height = video.videoHeight;
    const rowHeight = Math.floor(height / ROWS_PER_HEIGHT);
    if (width < BITS * 4 || rowHeight < 4) return null;
    reader ??= document.createElement('canvas').getContext('2d', { willReadFrequently: true });
    if (reader.canvas.width !== width) reader.canvas.width = width;
    reader.canvas.height = 2 * rowHeight;
    reader.drawImage(video, 0, 0, width, 2 * rowHeight, 0, 0, width, 2 * rowHeight);
    const pixels = reader.getImageData(0, 0, width, 2 * rowHeight).data;
    const mean = (x0, x1, y0, y1) => {
      let sum = 0;
      let count = 0;
      for (let y = y0; y < y1; y += 1) {
        for (let x = x0; x < x1; x += 1) {
          const i = 4 * (y * width + x);
          sum += 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
          count += 1;
        }
      }
      return sum / count;
    };
    let value = 0;
    for (let bit = 0; bit < BITS; bit += 1) {
      const x0 = Math.floor((bit * width) / BITS);
      const x1 = Math.floor(((bit + 1) * width) / BITS);
      const xa = x0 + Math.floor((x1 - x0) / 4);
      const xb = x1 - Math.floor((x1 - x0) / 4);
      const first = mean(xa, xb, Math.floor(rowHeight / 4), Math.floor((rowHeight * 3) / 4)) > 128;
      const second = mean(xa, xb, rowHeight + Math.floor(rowHeight / 4), rowHeight + Math.floor((rowHeight * 3) / 4)) > 128;
      if (first === second) return null;
      value = value * 2 + (first ? 1 : 0);
    }
    return value;
  }

  function watchRemote(video) {
    const onFrame = () => {
      bench.firstFrameAt ??= performance.now();
      if (config.readStamps && video.videoWidth > 0) {
        const stamp = readStamp(video);
        const now = Date.now();
        if (stamp === null) bench.stampsRejected += 1;
        else if (bench.stamps.length < 20000) bench.stamps.push(now - unwrap(stamp, now));
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  // --- driving the page ----------------------------------------------------------------------------------
  function click(id) {
    const element = document.getElementById(id);
    if (element && !element.disabled) element.click();
  }

  function onState(state) {
    if (state === 'ready' && config.autoJoin && bench.joinAt === null && new URLSearchParams(location.search).has('room')) {
      bench.joinAt = performance.now();
      click('join');
    }
    if (state === 'incoming' && config.autoAnswer) {
      bench.answerAt = performance.now();
      click('answer');
    }
  }

  // Called by the runner for the "page already loaded" join.
  bench.join = () => {
    bench.joinAt = performance.now();
    click('join');
  };

  document.addEventListener('DOMContentLoaded', () => {
    const remote = document.getElementById('remote');
    if (remote) watchRemote(remote);
    new MutationObserver(() => onState(document.body.dataset.state))
      .observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
    onState(document.body.dataset.state);
  });
})();
