/**
 * Staging records: one small JSON file per staged volume, so publish, unstage, expand,
 * stats and a restarted plugin know the volume's NQN, target and access type without
 * asking the controller. Written atomically (temp file + rename) before anything is
 * mounted, removed after a successful unstage.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { InternalError } from '../domain/errors';
import type { FsType, VolumeContext } from '../domain/volume-context';

export interface StagingRecord {
  readonly version: 1;
  readonly volumeId: string;
  readonly stagingPath: string;
  readonly access: 'mount' | 'block';
  /** The filesystem the volume is (to be) mounted with; absent for block. */
  readonly fsType?: FsType;
  /** Mount flags from the stage request, reused when a stale mount is repaired. */
  readonly mountFlags?: readonly string[];
  readonly context: VolumeContext;
  /** Device at the last stage; a reconnect may renumber it (always re-resolve by NQN). */
  readonly device: string;
}

export interface RecordStore {
  get(volumeId: string): Promise<StagingRecord | undefined>;
  put(record: StagingRecord): Promise<void>;
  remove(volumeId: string): Promise<void>;
  list(): Promise<StagingRecord[]>;
}

/** File name for a volume id: ids are free-form strings, so encode them. */
export function recordFileName(volumeId: string): string {
  return `${encodeURIComponent(volumeId).replace(/\./g, '%2E')}.json`;
}

function isRecord(v: unknown): v is StagingRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    r['version'] === 1 &&
    typeof r['volumeId'] === 'string' &&
    typeof r['stagingPath'] === 'string' &&
    (r['access'] === 'mount' || r['access'] === 'block') &&
    typeof r['device'] === 'string' &&
    typeof r['context'] === 'object' &&
    r['context'] !== null
  );
}

/** A record is a few KiB; anything longer than this is not one of ours. */
export const RECORD_MAX_BYTES = 64 * 1024;

export interface FileRecordStoreOptions {
  /**
   * Reads a whole record file (at most RECORD_MAX_BYTES); null (or a rejection with `code`
   * ENOENT) when it does not exist. Default fs.promises.readFile; the node plugin passes the
   * addon's readFile: one pool job instead of four, and no error built for a missing file.
   */
  readonly readFile?: (file: string) => Promise<string | null>;
}

export function createFileRecordStore(dir: string, opts: FileRecordStoreOptions = {}): RecordStore {
  const file = (id: string): string => path.join(dir, recordFileName(id));
  const readFile = opts.readFile ?? ((f: string) => fs.readFile(f, 'utf8'));
  const read = async (f: string): Promise<StagingRecord | undefined> => {
    let text: string | null;
    try {
      text = await readFile(f);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (text === null) return undefined;
    const parsed: unknown = JSON.parse(text);
    if (!isRecord(parsed)) throw new InternalError(`staging record ${f} is malformed`);
    return parsed;
  };
  return {
    get: (id) => read(file(id)),
    async put(record) {
      const tmp = `${file(record.volumeId)}.${process.pid}.tmp`;
      const text = JSON.stringify(record);
      // The directory exists after the first record; make it only when the write says so.
      try {
        await fs.writeFile(tmp, text, { mode: 0o600 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await fs.mkdir(dir, { recursive: true, mode: 0o700 });
        await fs.writeFile(tmp, text, { mode: 0o600 });
      }
      await fs.rename(tmp, file(record.volumeId));
    },
    async remove(id) {
      await fs.rm(file(id), { force: true });
    },
    async list() {
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch {
        return [];
      }
      const out: StagingRecord[] = [];
      for (const n of names.filter((x) => x.endsWith('.json'))) {
        const r = await read(path.join(dir, n)).catch(() => undefined);
        if (r) out.push(r);
      }
      return out;
    },
  };
}
