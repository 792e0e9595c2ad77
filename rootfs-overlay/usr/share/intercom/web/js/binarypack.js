// BinaryPack, the byte format of PeerJS's default `binary` data serialization
// (docs/signaling.md#binarypack): MessagePack-like, big-endian, with its own split between
// UTF-8 strings (0xb0/0xd8/0xd9) and raw bytes (0xa0/0xda/0xdb). Plus PeerJS's chunking of
// packed messages over 16 300 bytes into {__peerData, n, data, total} maps.

export const CHUNK_SIZE = 16300;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export class BinaryPackError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BinaryPackError';
  }
}

/** Packs one value into a Uint8Array. */
export function pack(value) {
  const writer = new Writer();
  writeValue(writer, value, 0);
  return writer.bytes();
}

/**
 * Unpacks one value from bytes (ArrayBuffer or a typed array). Raw bytes come back as
 * ArrayBuffer, as in PeerJS. Throws BinaryPackError on truncated or too deeply nested input.
 */
export function unpack(bytes) {
  const view = toUint8(bytes);
  const reader = new Reader(view);
  const value = reader.value(0);
  return value;
}

/** Splits packed bytes into PeerJS chunk messages (each packed), or returns [bytes] when small enough. */
export function chunk(packed, messageId) {
  if (packed.byteLength <= CHUNK_SIZE) return [packed];
  const total = Math.ceil(packed.byteLength / CHUNK_SIZE);
  const pieces = [];
  for (let n = 0; n < total; n += 1) {
    const data = packed.slice(n * CHUNK_SIZE, (n + 1) * CHUNK_SIZE);
    pieces.push(pack({ __peerData: messageId, n, data, total }));
  }
  return pieces;
}

/** Collects chunk pieces by message id; add() returns the whole packed message once complete. */
export class ChunkAssembler {
  #messages = new Map();
  #maxBytes;

  constructor(maxBytes = 16 << 20) {
    this.#maxBytes = maxBytes;
  }

  /** piece: a decoded {__peerData: id, n, data, total} map. Returns Uint8Array or null. */
  add(piece) {
    const { __peerData: id, n, data, total } = piece;
    if (!Number.isInteger(n) || !Number.isInteger(total) || total < 1 || n < 0 || n >= total) return null;
    if (!(data instanceof ArrayBuffer) || total * CHUNK_SIZE > this.#maxBytes) return null;
    let message = this.#messages.get(id);
    if (!message) {
      message = { total, count: 0, parts: new Array(total) };
      this.#messages.set(id, message);
    }
    if (message.total !== total || message.parts[n]) return null;
    message.parts[n] = new Uint8Array(data);
    message.count += 1;
    if (message.count < total) return null;
    this.#messages.delete(id);
    const size = message.parts.reduce((sum, part) => sum + part.byteLength, 0);
    const whole = new Uint8Array(size);
    let offset = 0;
    for (const part of message.parts) {
      whole.set(part, offset);
      offset += part.byteLength;
    }
    return whole;
  }
}

// --- encoder -------------------------------------------------------------------------------

const MAX_DEPTH = 64;

class Writer {
  #buffer = new Uint8Array(256);
  #view = new DataView(this.#buffer.buffer);
  #length = 0;

  #reserve(count) {
    if (this.#length + count <= this.#buffer.byteLength) return;
    let size = this.#buffer.byteLength * 2;
    while (size < this.#length + count) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }

  u8(value) {
    this.#reserve(1);
    this.#view.setUint8(this.#length, value);
    this.#length += 1;
  }

  u16(value) {
    this.#reserve(2);
    this.#view.setUint16(this.#length, value);
    this.#length += 2;
  }

  u32(value) {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value);
    this.#length += 4;
  }

  i8(value) {
    this.#reserve(1);
    this.#view.setInt8(this.#length, value);
    this.#length += 1;
  }

  i16(value) {
    this.#reserve(2);
    this.#view.setInt16(this.#length, value);
    this.#length += 2;
  }

  i32(value) {
    this.#reserve(4);
    this.#view.setInt32(this.#length, value);
    this.#length += 4;
  }

  i64(value) {
    this.#reserve(8);
    this.#view.setBigInt64(this.#length, BigInt(value));
    this.#length += 8;
  }

  u64(value) {
    this.#reserve(8);
    this.#view.setBigUint64(this.#length, BigInt(value));
    this.#length += 8;
  }

  f64(value) {
    this.#reserve(8);
    this.#view.setFloat64(this.#length, value);
    this.#length += 8;
  }

  raw(bytes) {
    this.#reserve(bytes.byteLength);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.byteLength;
  }

  bytes() {
    return this.#buffer.slice(0, this.#length);
  }
}

function writeValue(w, value, depth) {
  if (depth > MAX_DEPTH) throw new BinaryPackError('value nested too deeply');
  if (value === null || value === undefined) {
    w.u8(0xc0);
  } else if (value === true) {
    w.u8(0xc3);
  } else if (value === false) {
    w.u8(0xc2);
  } else if (typeof value === 'number') {
    writeNumber(w, value);
  } else if (typeof value === 'bigint') {
    if (value < 0n) {
      w.u8(0xd3);
      w.i64(value);
    } else {
      w.u8(0xcf);
      w.u64(value);
    }
  } else if (typeof value === 'string') {
    writeString(w, value);
  } else if (value instanceof ArrayBuffer) {
    writeRaw(w, new Uint8Array(value));
  } else if (ArrayBuffer.isView(value)) {
    writeRaw(w, new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  } else if (Array.isArray(value)) {
    writeHeader(w, value.length, 0x90, 0xdc, 0xdd);
    for (const item of value) writeValue(w, item, depth + 1);
  } else if (value instanceof Date) {
    writeString(w, value.toString());
  } else if (typeof value === 'object') {
    const keys = Object.keys(value);
    writeHeader(w, keys.length, 0x80, 0xde, 0xdf);
    for (const key of keys) {
      writeString(w, key);
      writeValue(w, value[key], depth + 1);
    }
  } else {
    throw new BinaryPackError(`cannot pack a ${typeof value}`);
  }
}

// Integers take the smallest of: fixint, uint8, int8, uint16, int16, uint32, int32, int64, uint64.
function writeNumber(w, n) {
  if (!Number.isInteger(n)) {
    w.u8(0xcb);
    w.f64(n);
  } else if (n >= -0x20 && n <= 0x7f) {
    w.u8(n & 0xff);
  } else if (n >= 0 && n <= 0xff) {
    w.u8(0xcc);
    w.u8(n);
  } else if (n >= -0x80 && n <= 0x7f) {
    w.u8(0xd0);
    w.i8(n);
  } else if (n >= 0 && n <= 0xffff) {
    w.u8(0xcd);
    w.u16(n);
  } else if (n >= -0x8000 && n <= 0x7fff) {
    w.u8(0xd1);
    w.i16(n);
  } else if (n >= 0 && n <= 0xffffffff) {
    w.u8(0xce);
    w.u32(n);
  } else if (n >= -0x80000000 && n <= 0x7fffffff) {
    w.u8(0xd2);
    w.i32(n);
  } else if (n >= -(2 ** 63) && n < 2 ** 63) {
    w.u8(0xd3);
    w.i64(n);
  } else {
    w.u8(0xcf);
    w.u64(n);
  }
}

function writeString(w, text) {
  const bytes = encoder.encode(text);
  writeHeader(w, bytes.byteLength, 0xb0, 0xd8, 0xd9);
  w.raw(bytes);
}

function writeRaw(w, bytes) {
  writeHeader(w, bytes.byteLength, 0xa0, 0xda, 0xdb);
  w.raw(bytes);
}

function writeHeader(w, length, fix, with16, with32) {
  if (length <= 0x0f) {
    w.u8(fix + length);
  } else if (length <= 0xffff) {
    w.u8(with16);
    w.u16(length);
  } else {
    w.u8(with32);
    w.u32(length);
  }
}

// --- decoder -------------------------------------------------------------------------------

class Reader {
  #bytes;
  #view;
  #offset = 0;

  constructor(bytes) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(count) {
    if (this.#offset + count > this.#bytes.byteLength) throw new BinaryPackError('truncated BinaryPack data');
  }

  #take(method, size) {
    this.#need(size);
    const value = this.#view[method](this.#offset);
    this.#offset += size;
    return value;
  }

  #slice(length) {
    this.#need(length);
    const part = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return part;
  }

  #string(length) {
    return decoder.decode(this.#slice(length));
  }

  #raw(length) {
    return this.#slice(length).slice().buffer;
  }

  #array(count, depth) {
    // Every value takes at least one byte: a count beyond what is left is a lie.
    this.#need(count);
    const items = new Array(count);
    for (let i = 0; i < count; i += 1) items[i] = this.value(depth + 1);
    return items;
  }

  #map(count, depth) {
    this.#need(count * 2);
    const object = {};
    for (let i = 0; i < count; i += 1) {
      const key = this.value(depth + 1);
      const value = this.value(depth + 1);
      if (key === '__proto__') continue;
      object[String(key)] = value;
    }
    return object;
  }

  value(depth) {
    if (depth > MAX_DEPTH) throw new BinaryPackError('BinaryPack data nested too deeply');
    const type = this.#take('getUint8', 1);
    if (type <= 0x7f) return type;
    if (type >= 0xe0) return type - 0x100;
    if (type <= 0x8f) return this.#map(type & 0x0f, depth);
    if (type <= 0x9f) return this.#array(type & 0x0f, depth);
    if (type <= 0xaf) return this.#raw(type & 0x0f);
    if (type <= 0xbf) return this.#string(type & 0x0f);
    switch (type) {
      case 0xc0:
        return null;
      case 0xc1:
        return undefined;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        return this.#take('getFloat32', 4);
      case 0xcb:
        return this.#take('getFloat64', 8);
      case 0xcc:
        return this.#take('getUint8', 1);
      case 0xcd:
        return this.#take('getUint16', 2);
      case 0xce:
        return this.#take('getUint32', 4);
      case 0xcf:
        return bigToNumber(this.#take('getBigUint64', 8));
      case 0xd0:
        return this.#take('getInt8', 1);
      case 0xd1:
        return this.#take('getInt16', 2);
      case 0xd2:
        return this.#take('getInt32', 4);
      case 0xd3:
        return bigToNumber(this.#take('getBigInt64', 8));
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
        return undefined;
      case 0xd8:
        return this.#string(this.#take('getUint16', 2));
      case 0xd9:
        return this.#string(this.#take('getUint32', 4));
      case 0xda:
        return this.#raw(this.#take('getUint16', 2));
      case 0xdb:
        return this.#raw(this.#take('getUint32', 4));
      case 0xdc:
        return this.#array(this.#take('getUint16', 2), depth);
      case 0xdd:
        return this.#array(this.#take('getUint32', 4), depth);
      case 0xde:
        return this.#map(this.#take('getUint16', 2), depth);
      case 0xdf:
        return this.#map(this.#take('getUint32', 4), depth);
      default:
        throw new BinaryPackError(`unknown BinaryPack type 0x${type.toString(16)}`);
    }
  }
}

// 64-bit values become Numbers, as in PeerJS (precision beyond 2^53 is lost there too).
function bigToNumber(value) {
  return Number(value);
}

function toUint8(bytes) {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new BinaryPackError('unpack() needs an ArrayBuffer or a typed array');
}
