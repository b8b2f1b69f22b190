/**
 * The `key: value` screens: `/system resource print`, `/system identity print` and
 * `/disk monitor-traffic <slot> once`. Pure: facts in, lines out.
 */
import { formatRate, formatSize, formatUptime, groupDigits } from './format';
import { renderKeyValues } from './render';

export interface ResourceFacts {
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly boardName: string;
}

export function resourceScreen(f: ResourceFacts): string[] {
  const GiB = 1024 ** 3;
  return renderKeyValues([
    ['uptime', formatUptime(f.uptimeSeconds)],
    ['version', `${f.version} (stable)`],
    ['build-time', '2024-09-20 13:00:27'],
    ['factory-software', '7.15'],
    ['free-memory', formatSize(14.9 * GiB)],
    ['total-memory', formatSize(15.6 * GiB)],
    ['cpu', 'ARM64'],
    ['cpu-count', '4'],
    ['cpu-load', '2%'],
    ['free-hdd-space', formatSize(96.5 * 1024 * 1024)],
    ['total-hdd-space', formatSize(128 * 1024 * 1024)],
    ['write-sect-since-reboot', '1320'],
    ['write-sect-total', '48211'],
    ['architecture-name', 'arm64'],
    ['board-name', f.boardName],
    ['platform', 'MikroTik'],
  ]);
}

export function identityScreen(name: string): string[] {
  return renderKeyValues([['name', name]]);
}

export interface TrafficFacts {
  readonly slot: string;
  readonly readOps: number;
  readonly writeOps: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  readonly readOpsPerSecond: number;
  readonly writeOpsPerSecond: number;
  readonly readBitsPerSecond: number;
  readonly writeBitsPerSecond: number;
}

export function trafficScreen(f: TrafficFacts): string[] {
  return renderKeyValues([
    ['slot', f.slot],
    ['read-ops', groupDigits(f.readOps)],
    ['write-ops', groupDigits(f.writeOps)],
    ['read-bytes', groupDigits(f.readBytes)],
    ['write-bytes', groupDigits(f.writeBytes)],
    ['read-ops-per-second', String(f.readOpsPerSecond)],
    ['write-ops-per-second', String(f.writeOpsPerSecond)],
    ['read-rate', formatRate(f.readBitsPerSecond)],
    ['write-rate', formatRate(f.writeBitsPerSecond)],
  ]);
}
