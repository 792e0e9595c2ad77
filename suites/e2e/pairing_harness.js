// A scripted paired browser for suites/e2e/test_pairing.py: it imports the real web client's modules (PeerJS
// wire, data connections, config) from the device's own web server and speaks the pairing protocol of
// docs/pairing.md with them, computing the MACs with WebCrypto. Run with execute_async_script(source, id):
// registers `id` and resolves once registered; then window.harness has pair() and the record of what came.
const [stableId, done] = arguments;
(async () => {
  const { PeerJSWire } = await import('/js/peerjs-wire.js');
  const { DataConnection } = await import('/js/data-connection.js');
  const { loadConfig } = await import('/js/config.js');
  const config = await loadConfig(new URL(location.href));
  const wire = new PeerJSWire(config.signaling, { id: stableId });
  await wire.open();

  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const unb64 = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const fingerprint = (sdp) => {
    const line = sdp.split(/\r?\n/).find((l) => l.startsWith('a=fingerprint:sha-256 '));
    return line ? line.slice('a=fingerprint:sha-256 '.length).trim().toUpperCase() : null;
  };
  const fingerprints = (conn) => {
    const local = conn.pc.localDescription.sdp, remote = conn.pc.remoteDescription.sdp;
    return conn.isOfferer ? [fingerprint(local), fingerprint(remote)] : [fingerprint(remote), fingerprint(local)];
  };
  async function mac(keyText, text) {
    const key = await crypto.subtle.importKey('raw', unb64(keyText), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return b64(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(text)));
  }

  const h = window.harness = {
    id: stableId,
    /** Every OFFER that reached this peer ID: {src, metadata}. */
    offers: [],
    /** Proved ring messages, ring-overs, refusals, and anything that did not hold. */
    rings: [], over: [], closed: [], problems: [],
    /** Ring links whose channel opened here. */
    opened: 0,
    /** Per ring link, ms since its OFFER: {open, hello, ring, ended} (a diagnostic for failure messages). */
    links: [],
    /** True: never say hello on a ring link. A number: stay silent on that many ring links, then say it. */
    silent: false,
    pairing: null,
    lastRingLink: null,

    /** Pairs through `pairingLink` (what the QR holds); resolves to the door's reply. `tamper` spoils the MAC. */
    pair(pairingLink, name, tamper = false) {
      const url = new URL(pairingLink);
      const home = url.searchParams.get('pair');
      const token = new URLSearchParams(url.hash.slice(1)).get('p');
      return new Promise((resolve) => {
        const conn = new DataConnection({ wire, remoteId: home, label: 'pair', serialization: 'json',
                                          metadata: { intercom: 'pair' } });
        const timer = setTimeout(() => resolve({ t: 'timeout' }), 20000);
        conn.addEventListener('open', async () => {
          const [offerFP, answerFP] = fingerprints(conn);
          let proof = await mac(token, `intercom-pair:${offerFP}|${answerFP}`);
          if (tamper) proof = await mac(token, `intercom-pair:${answerFP}|${offerFP}`);
          conn.send({ t: 'pair', name, peerId: stableId, proof });
        });
        conn.addEventListener('data', async (event) => {
          const reply = event.detail;
          clearTimeout(timer);
          if (reply.t === 'paired') {
            const [offerFP, answerFP] = fingerprints(conn);
            const expected = await mac(token, `intercom-paired:${offerFP}|${answerFP}|${reply.credential}`);
            if (expected !== reply.proof) h.problems.push('the paired reply proof does not hold');
            h.pairing = { id: reply.id, door: reply.door, home: reply.home, credential: reply.credential };
            if (h.pushSubscription) conn.send({ t: 'push', subscription: h.pushSubscription });
          }
          const shown = { ...reply };
          if ('credential' in shown) shown.credential = '(kept)';
          resolve(shown);
        });
        conn.addEventListener('ended', () => { clearTimeout(timer); resolve({ t: 'closed' }); });
        conn.start();
      });
    },

  };

  // Ring links: only from the stored home ID with metadata intercom=ring, as the contract says.
  wire.addEventListener('offer', (event) => {
    const { src, payload } = event.detail;
    h.offers.push({ src, metadata: payload.metadata ?? null, type: payload.type });
    if (!h.pairing || src !== h.pairing.home || payload.type !== 'data' || payload.metadata?.intercom !== 'ring') return;
    const conn = new DataConnection({ wire, offer: { src, payload } });
    const start = performance.now();
    const times = {};
    const mark = (what) => { times[what] = Math.round(performance.now() - start); };
    h.links.push(times);
    conn.addEventListener('open', async () => {
      mark('open');
      h.opened += 1;
      // A page that takes the ring link but never proves itself (or not on the first few links).
      if (h.silent === true || h.opened <= Number(h.silent)) return;
      const [offerFP, answerFP] = fingerprints(conn);
      const credential = h.wrongCredential ?? h.pairing.credential;
      const proof = await mac(credential, `intercom-ring:${offerFP}|${answerFP}`);
      mark('hello');
      conn.send({ t: 'hello', id: h.pairing.id, proof });
    });
    conn.addEventListener('data', async (e) => {
      const message = e.detail;
      if (message.t === 'ring') {
        const [offerFP, answerFP] = fingerprints(conn);
        const expected = await mac(h.pairing.credential, `intercom-ring-reply:${offerFP}|${answerFP}|${message.link}`);
        if (expected !== message.proof) return h.problems.push('the ring proof does not hold');
        mark('ring');
        h.lastRingLink = message.link;
        h.rings.push({ door: message.door, code: message.code, expiresAt: message.expiresAt });
      } else if (message.t === 'ring-over') {
        h.over.push(message.reason);
      }
    });
    conn.addEventListener('ended', (e) => { mark('ended'); h.closed.push(e.detail?.reason ?? null); });
    conn.answer();
  });
  done(true);
})().catch((error) => done('harness failed: ' + error));
