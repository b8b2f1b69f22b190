/**
 * A small Dockerfile reader for the image tests: joins continuation lines, drops comments,
 * substitutes global ARG defaults into FROM, and groups instructions by stage. It knows only
 * what the tests ask about; it is not a general BuildKit front end.
 */

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly name: string | undefined;
  readonly base: string;
  readonly instructions: Instruction[];
}

export interface Dockerfile {
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: Stage[];
}

function logicalLines(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line)) continue; // comments (incl. the syntax directive) and inside continuations
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    if (current.trim() !== '') out.push(current.trim());
    current = '';
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

function substitute(value: string, vars: ReadonlyMap<string, string>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a?: string, b?: string) => {
    const name = a ?? b ?? '';
    return vars.get(name) ?? whole;
  });
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const m = /^(\w+)\s*(.*)$/.exec(line);
    if (!m) throw new Error(`unparsable Dockerfile line: ${line}`);
    const keyword = m[1]!.toUpperCase();
    const args = m[2] ?? '';
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`unparsable FROM: ${line}`);
      stages.push({ base: substitute(from[1]!, globalArgs), name: from[2], instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) {
      if (keyword !== 'ARG') throw new Error(`${keyword} before the first FROM`);
      const arg = /^(\w+)(?:=(.*))?$/.exec(args);
      if (arg) globalArgs.set(arg[1]!, (arg[2] ?? '').replace(/^"(.*)"$/, '$1'));
      continue;
    }
    stage.instructions.push({ keyword, args });
  }
  return { globalArgs, stages };
}

/** Debian packages named by every `apt-get <verb>` (install, download) in a stage. */
export function aptPackages(stage: Stage, verb = 'install'): Set<string> {
  const pkgs = new Set<string>();
  for (const ins of stage.instructions) {
    if (ins.keyword !== 'RUN') continue;
    for (const cmd of ins.args.split(/&&|;|\|\|/)) {
      const words = cmd.trim().split(/\s+/);
      const at = words.indexOf(verb);
      if (at < 1 || !/^apt(-get)?$/.test(words[at - 1] ?? '')) continue;
      for (const w of words.slice(at + 1)) if (!w.startsWith('-')) pkgs.add(w);
    }
  }
  return pkgs;
}

/** The effective USER at the end of a stage ('root' when none is set). */
export function finalUser(stage: Stage): string {
  let user = 'root';
  for (const ins of stage.instructions) if (ins.keyword === 'USER') user = ins.args.trim();
  return user;
}

/** `COPY --from=<stage> <src...> <dest>` sources, by the stage they come from. */
export function copiesFrom(stage: Stage): { from: string; sources: string[]; dest: string }[] {
  const out: { from: string; sources: string[]; dest: string }[] = [];
  for (const ins of stage.instructions) {
    if (ins.keyword !== 'COPY') continue;
    const words = ins.args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='));
    const paths = words.filter((w) => !w.startsWith('--'));
    if (!from || paths.length < 2) continue;
    out.push({
      from: from.slice('--from='.length),
      sources: paths.slice(0, -1),
      dest: paths.at(-1)!,
    });
  }
  return out;
}
