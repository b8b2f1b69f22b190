/**
 * Repairs the HTTP/2 `:authority` of incoming gRPC requests before Node's HTTP/2 server
 * sees them.
 *
 * Older gRPC clients (kubelet and sidecars built with older grpc-go) send the unix socket
 * path as `:authority`, e.g. `/var/lib/kubelet/plugins/x/csi.sock`. nghttp2, under Node's
 * HTTP/2 server, rejects such a header with a stream-level PROTOCOL_ERROR, so every call
 * from those clients fails before it reaches a handler. Current clients send `localhost`
 * or nothing, which are accepted.
 *
 * The fix sits between the socket and the gRPC server: a transform of the client-to-server
 * byte stream that parses HTTP/2 frames, decodes each header block (HPACK, with the
 * client's dynamic table), replaces an authority nghttp2 would reject with `localhost`,
 * and re-encodes the block with literal fields only (no indexing, no Huffman), so the
 * server's decoder table is never used and stays consistent. All other frames pass
 * through byte for byte; the server-to-client direction is not touched.
 */
import { Transform, type TransformCallback } from 'node:stream';
import hpack from 'hpack.js';
import type { Decompressor, HeaderField } from 'hpack.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER = 9;
const TYPE_HEADERS = 0x1;
const TYPE_CONTINUATION = 0x9;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** Every HTTP/2 peer must accept frames of this size; we never send larger ones. */
const MAX_FRAME = 16384;
/** Default SETTINGS_HEADER_TABLE_SIZE, which Node's server advertises. */
const TABLE_SIZE = 4096;
/** Refuse to buffer a header block larger than this (Node's own limit is similar). */
const MAX_HEADER_BLOCK = 256 * 1024;

/** Characters nghttp2 accepts in `:authority` (RFC 3986 authority characters). */
const VALID_AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/;
export const REPLACEMENT_AUTHORITY = 'localhost';

export function needsRepair(authority: string): boolean {
  return !VALID_AUTHORITY.test(authority);
}

interface PendingBlock {
  streamId: number;
  endStream: boolean;
  fragments: Buffer[];
  size: number;
}

export class AuthorityRepair extends Transform {
  private buffered: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  private pending: PendingBlock | undefined;
  private readonly decoder: Decompressor = hpack.decompressor.create({
    table: { size: TABLE_SIZE },
  });
  /** Number of header blocks whose authority was replaced (for logs and tests). */
  repaired = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    try {
      this.drain();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private drain(): void {
    if (!this.prefaceSeen) {
      if (this.buffered.length < PREFACE.length) return;
      if (!this.buffered.subarray(0, PREFACE.length).equals(PREFACE)) {
        throw new Error('not an HTTP/2 connection preface');
      }
      this.push(this.buffered.subarray(0, PREFACE.length));
      this.buffered = this.buffered.subarray(PREFACE.length);
      this.prefaceSeen = true;
    }
    let passFrom = 0;
    let offset = 0;
    while (this.buffered.length - offset >= FRAME_HEADER) {
      const length = this.buffered.readUIntBE(offset, 3);
      const end = offset + FRAME_HEADER + length;
      if (end > this.buffered.length) break;
      const type = this.buffered[offset + 3]!;
      if (type === TYPE_HEADERS || type === TYPE_CONTINUATION) {
        if (offset > passFrom) this.push(this.buffered.subarray(passFrom, offset));
        this.onHeaderFrame(this.buffered.subarray(offset, end));
        passFrom = end;
      }
      offset = end;
    }
    if (offset > passFrom) this.push(this.buffered.subarray(passFrom, offset));
    this.buffered = this.buffered.subarray(offset);
  }

  private onHeaderFrame(frame: Buffer): void {
    const type = frame[3]!;
    const flags = frame[4]!;
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    let payload = frame.subarray(FRAME_HEADER);
    if (type === TYPE_HEADERS) {
      if (this.pending) throw new Error('HEADERS while a header block is open');
      if (flags & FLAG_PADDED) {
        const pad = payload[0] ?? 0;
        payload = payload.subarray(1, payload.length - pad);
      }
      if (flags & FLAG_PRIORITY) payload = payload.subarray(5);
      this.pending = {
        streamId,
        endStream: (flags & FLAG_END_STREAM) !== 0,
        fragments: [],
        size: 0,
      };
    } else if (!this.pending || this.pending.streamId !== streamId) {
      throw new Error('CONTINUATION without an open header block');
    }
    const block = this.pending;
    block.fragments.push(Buffer.from(payload));
    block.size += payload.length;
    if (block.size > MAX_HEADER_BLOCK) throw new Error('header block too large');
    if (flags & FLAG_END_HEADERS) {
      this.pending = undefined;
      this.emitBlock(block);
    }
  }

  private emitBlock(block: PendingBlock): void {
    const fields = this.decode(Buffer.concat(block.fragments));
    for (const field of fields) {
      if (field.name === ':authority' && needsRepair(field.value)) {
        field.value = REPLACEMENT_AUTHORITY;
        this.repaired++;
      }
    }
    const encoded = encodeLiteral(fields);
    for (let pos = 0, first = true; first || pos < encoded.length; first = false) {
      const part = encoded.subarray(pos, pos + MAX_FRAME);
      pos += part.length;
      const last = pos >= encoded.length;
      const header = Buffer.alloc(FRAME_HEADER);
      header.writeUIntBE(part.length, 0, 3);
      header[3] = first ? TYPE_HEADERS : TYPE_CONTINUATION;
      header[4] = (first && block.endStream ? FLAG_END_STREAM : 0) | (last ? FLAG_END_HEADERS : 0);
      header.writeUInt32BE(block.streamId, 5);
      this.push(Buffer.concat([header, part]));
    }
  }

  private decode(block: Buffer): HeaderField[] {
    let failure: Error | null = null;
    const onError = (err: Error): void => {
      failure = err;
    };
    this.decoder.once('error', onError);
    this.decoder.write(block);
    this.decoder.execute();
    this.decoder.removeListener('error', onError);
    if (failure) throw new Error(`invalid HPACK header block: ${(failure as Error).message}`);
    const out: HeaderField[] = [];
    for (let f = this.decoder.read(); f !== null; f = this.decoder.read()) out.push(f);
    return out;
  }
}

/** HPACK integer with an N-bit prefix (RFC 7541 5.1); the first byte's high bits are 0. */
function encodeInt(value: number, prefixBits: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [value];
  const out = [max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

function encodeString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([Buffer.from(encodeInt(bytes.length, 7)), bytes]);
}

/** Literal header fields without indexing and with literal names (RFC 7541 6.2.2). */
export function encodeLiteral(fields: readonly HeaderField[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    parts.push(
      Buffer.from([f.neverIndex ? 0x10 : 0x00]),
      encodeString(f.name),
      encodeString(f.value),
    );
  }
  return Buffer.concat(parts);
}
