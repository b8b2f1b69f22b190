/**
 * Pure classification of what a signature probe found, for the never-format rule: only a
 * positive "nothing" is 'empty'; every doubt is 'ambiguous' (see ProbeResult in ports.ts).
 * Two sources share one reading of the tags: blkid(8)'s `-p -o export` output and the
 * addon's in-process libblkid probe (same library, same chains).
 */
import type { ProbeReply } from '../nvme/native';
import type { ProbeResult } from './ports';
import { type RunResult, firstLine } from './runner';

/** blkid(8) exit codes: 0 found, 2 nothing found (or could not open), 4 usage, 8 ambiguous. */
const BLKID_NOTHING = 2;

/** What the NAME=value tags of a match say: a filesystem, something else, or unclear. */
export function classifyTags(fields: ReadonlyMap<string, string>): ProbeResult {
  const type = fields.get('TYPE');
  const usage = fields.get('USAGE');
  if (type !== undefined && type !== '' && (usage === undefined || usage === 'filesystem')) {
    return { kind: 'filesystem', fsType: type };
  }
  if (type !== undefined && type !== '') return { kind: 'other', detail: `${type} (${usage})` };
  const pttype = fields.get('PTTYPE');
  if (pttype !== undefined) return { kind: 'other', detail: `a ${pttype} partition table` };
  return { kind: 'ambiguous', reason: 'blkid reported a match without a type' };
}

/** Classifies a `blkid -p -o export` result. Only a clean exit 2 is 'empty'. */
export function classifyProbe(r: RunResult): ProbeResult {
  const out = r.stdout.trim();
  const err = r.stderr.trim();
  if (r.code === BLKID_NOTHING) {
    return out === '' && err === ''
      ? { kind: 'empty' }
      : { kind: 'ambiguous', reason: `blkid exited 2 with output: ${firstLine(err || out)}` };
  }
  if (r.code !== 0) {
    return {
      kind: 'ambiguous',
      reason: `blkid exited ${r.code}: ${firstLine(err) || 'no message'}`,
    };
  }
  const fields = new Map<string, string>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return classifyTags(fields);
}

/** Classifies the addon's probeDevice() reply. */
export function classifyProbeReply(reply: ProbeReply): ProbeResult {
  if (reply.status === 'nothing') return { kind: 'empty' };
  if (reply.status === 'ambiguous') {
    return { kind: 'ambiguous', reason: 'libblkid found more than one signature' };
  }
  return classifyTags(new Map(Object.entries(reply.values)));
}
