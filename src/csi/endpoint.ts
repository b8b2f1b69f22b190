import { isAbsolute, normalize } from 'node:path';

export type Endpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * Parses a CSI endpoint: `unix:///abs/path.sock`, `unix:/abs/path.sock`, or
 * `tcp://host:port` (`tcp://[::1]:port` for IPv6). Returns an error text instead of
 * throwing so config validation can report every problem at once.
 */
export function parseEndpoint(value: string): Endpoint | { error: string } {
  if (value.startsWith('unix:')) {
    const path = value.startsWith('unix://') ? value.slice('unix://'.length) : value.slice(5);
    if (!isAbsolute(path)) return { error: `unix endpoint needs an absolute path: ${value}` };
    if (path.includes('\0')) return { error: 'unix endpoint path contains a NUL byte' };
    if (Buffer.byteLength(path) > 107)
      return { error: `unix socket path too long (max 107 bytes): ${path}` };
    return { kind: 'unix', path: normalize(path) };
  }
  if (value.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(value);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) return { error: `tcp endpoint must be tcp://host:port: ${value}` };
    const host = m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0';
    return { kind: 'tcp', host, port };
  }
  return { error: `endpoint must start with unix:// or tcp://: ${value}` };
}

export function formatEndpoint(e: Endpoint): string {
  return e.kind === 'unix'
    ? `unix://${e.path}`
    : `tcp://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}
