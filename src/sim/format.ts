/**
 * RouterOS value formats, as pure functions. These are the shapes the control-plane parsers
 * must read (see ../shared/ROUTEROS.md): space-grouped byte counts, sizes with a binary
 * unit and one decimal, quoted strings with RouterOS escapes, floats in :serialize output.
 */

/** `53687091200` → `53 687 091 200` (groups of three, separated by one space). */
export function groupDigits(n: number): string {
  const s = String(Math.trunc(n));
  const neg = s.startsWith('-');
  const digits = neg ? s.slice(1) : s;
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) {
    groups.unshift(digits.slice(Math.max(0, end - 3), end));
  }
  return (neg ? '-' : '') + groups.join(' ');
}

const SIZE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/**
 * Sizes as RouterOS prints `file-size` and `/file` sizes: below 1 KiB the byte count with
 * `B` (`512B`); otherwise the largest binary unit whose value is >= 1, one decimal
 * (`50.0GiB`, `1.5GiB`, `1023.9MiB`). Lossy: parsers should prefer exact `size=` counts.
 */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${(Math.floor(value * 10) / 10).toFixed(1)}${SIZE_UNITS[unit]}`;
}

/** Bit rates as in monitor-traffic: `0bps`, `950bps`, `12.8kbps`, `12.8Mbps`, `1.2Gbps`. */
export function formatRate(bitsPerSecond: number): string {
  const units = ['bps', 'kbps', 'Mbps', 'Gbps'];
  let value = bitsPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)}bps` : `${value.toFixed(1)}${units[unit]}`;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC (the simulated device's clock runs in UTC). */
export function formatTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
  );
}

/** Uptime as RouterOS prints it: `3d4h12m7s`, `45s`. */
export function formatUptime(seconds: number): string {
  let s = Math.max(0, Math.floor(seconds));
  const w = Math.floor(s / 604800);
  s -= w * 604800;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [w ? `${w}w` : '', d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''];
  return parts.join('') + (s || parts.join('') === '' ? `${s}s` : '');
}

/**
 * A RouterOS quoted string: `"` and `\` escaped with a backslash, `$` and `?` too (they are
 * special inside RouterOS strings), control and non-ASCII bytes as `\XX` hex.
 */
export function quote(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (ch === '"' || ch === '\\' || ch === '$' || ch === '?') out += '\\' + ch;
    else if (byte < 0x20 || byte >= 0x7f)
      out += '\\' + byte.toString(16).toUpperCase().padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

const BARE_SAFE = /^[A-Za-z0-9._/:*+@-]+$/;

/** Bare when the value is a non-empty run of safe characters, quoted otherwise. */
export function quoteIfNeeded(value: string): string {
  return BARE_SAFE.test(value) ? value : quote(value);
}

/**
 * Numbers as `:serialize to=json` prints them before 7.17 without `json.no-string-conversion`:
 * always a float with six decimals (`4420.000000`).
 */
export function jsonFloat(n: number): string {
  return n.toFixed(6);
}
