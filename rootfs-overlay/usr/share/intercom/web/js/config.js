// Page configuration: config.json beside index.html, then URL-parameter overrides.
// resolveConfig() is pure (no window, no fetch) so it can be checked outside a browser.

export const DEFAULT_CONFIG = Object.freeze({
  signaling: Object.freeze({ host: '', port: 0, path: '/', key: 'peerjs', secure: null }),
  roomPrefix: 'intercom-',
  iceServers: Object.freeze([]),
  iceTimeoutSeconds: 20,
  lostAfterSeconds: 5,
});

/** URL parameter → signaling field it overrides. */
const SIGNALING_OVERRIDES = Object.freeze({
  signalingHost: 'host',
  signalingPort: 'port',
  signalingPath: 'path',
  key: 'key',
});

export class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Fetches config.json relative to the page and resolves it against the page URL. */
export async function loadConfig(pageUrl, fetchFn = globalThis.fetch) {
  const url = new URL('config.json', pageUrl);
  let response;
  try {
    response = await fetchFn(url, { cache: 'no-store' });
  } catch (error) {
    throw new ConfigError(`config.json: could not be loaded (${error.message})`);
  }
  if (!response.ok) {
    throw new ConfigError(`config.json: could not be loaded (HTTP ${response.status})`);
  }
  let raw;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError('config.json: not valid JSON');
  }
  return resolveConfig(raw, pageUrl);
}

/**
 * Merges defaults, the parsed config.json and URL overrides, validates them and fills in
 * the page-relative values: empty host → page host, port 0 → page port, secure null → page is https.
 */
export function resolveConfig(raw, pageUrl) {
  const file = expectObject(raw, 'config.json');
  const signaling = {
    ...DEFAULT_CONFIG.signaling,
    ...expectObject(file.signaling ?? {}, 'config.json: signaling'),
  };
  for (const [param, field] of Object.entries(SIGNALING_OVERRIDES)) {
    const value = pageUrl.searchParams.get(param);
    if (value === null) continue;
    signaling[field] = field === 'port' ? parsePort(value, `URL parameter ${param}`) : value;
  }

  const host = checkHost(signaling.host, 'signaling.host');
  const port = checkPort(signaling.port, 'signaling.port');
  const path = checkPath(signaling.path, 'signaling.path');
  const key = checkKey(signaling.key, 'signaling.key');
  if (signaling.secure !== null && typeof signaling.secure !== 'boolean') {
    throw new ConfigError('signaling.secure: must be true, false or null');
  }
  const pageIsHttps = pageUrl.protocol === 'https:';

  const roomPrefix = file.roomPrefix ?? DEFAULT_CONFIG.roomPrefix;
  if (typeof roomPrefix !== 'string') throw new ConfigError('roomPrefix: must be a string');

  return Object.freeze({
    signaling: Object.freeze({
      host: bracketIPv6(host || pageUrl.hostname),
      port: port || Number(pageUrl.port) || (pageIsHttps ? 443 : 80),
      path,
      key,
      secure: signaling.secure ?? pageIsHttps,
    }),
    roomPrefix,
    iceServers: checkIceServers(file.iceServers ?? DEFAULT_CONFIG.iceServers),
    iceTimeoutSeconds: checkTimeout(file.iceTimeoutSeconds ?? DEFAULT_CONFIG.iceTimeoutSeconds),
    lostAfterSeconds: checkLostAfter(file.lostAfterSeconds ?? DEFAULT_CONFIG.lostAfterSeconds),
  });
}

function expectObject(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${what}: must be a JSON object`);
  }
  return value;
}

function parsePort(text, what) {
  if (!/^[0-9]{1,5}$/.test(text)) throw new ConfigError(`${what}: not a port number`);
  return checkPort(Number(text), what);
}

function checkPort(value, what) {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(`${what}: must be an integer 0–65535 (0 = the page's port)`);
  }
  return value;
}

// A hostname, an IPv4 address or an IPv6 address (bracketed or not); nothing that could
// smuggle a path, credentials or a query into the URL.
function checkHost(value, what) {
  if (typeof value !== 'string') throw new ConfigError(`${what}: must be a string`);
  if (value !== '' && !/^(?:[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?)$/.test(value)) {
    throw new ConfigError(`${what}: not a host name or address`);
  }
  return value;
}

function bracketIPv6(host) {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

// PeerJS normalises the path to start and end with '/'.
function checkPath(value, what) {
  if (typeof value !== 'string' || /[?#\s\\]/.test(value)) {
    throw new ConfigError(`${what}: must be a URL path without query or fragment`);
  }
  let path = value.startsWith('/') ? value : `/${value}`;
  if (!path.endsWith('/')) path += '/';
  return path;
}

function checkKey(value, what) {
  if (typeof value !== 'string' || value === '' || /[\s\x00-\x1f]/.test(value)) {
    throw new ConfigError(`${what}: must be a non-empty string without spaces`);
  }
  return value;
}

function checkTimeout(value) {
  if (!Number.isFinite(value) || value < 1 || value > 600) {
    throw new ConfigError('iceTimeoutSeconds: must be a number of seconds, 1–600');
  }
  return value;
}

// The door's media.lost_after_seconds: whole seconds, 3–60.
function checkLostAfter(value) {
  if (!Number.isInteger(value) || value < 3 || value > 60) {
    throw new ConfigError('lostAfterSeconds: must be a whole number of seconds, 3–60');
  }
  return value;
}

function checkIceServers(value) {
  if (!Array.isArray(value)) throw new ConfigError('iceServers: must be an array');
  value.forEach((server, index) => {
    const urls = expectObject(server, `iceServers[${index}]`).urls;
    const list = Array.isArray(urls) ? urls : [urls];
    if (list.length === 0 || !list.every((url) => typeof url === 'string' && url !== '')) {
      throw new ConfigError(`iceServers[${index}].urls: must be a URL string or a list of them`);
    }
  });
  return Object.freeze(value.map((server) => Object.freeze({ ...server })));
}
