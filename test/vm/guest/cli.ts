// Guest-side command line over ./nvmet for host-orchestrated tests (several steps across VMs):
//   node dist/test/vm/guest/cli.js <command> '<json arguments>'
// prints the JSON result on its last output line. Commands:
//   loop {file, sizeMiB}            → {device}
//   target {nqn, devicePath, traddr, trsvcid?, portId?, allowedHosts?} → {}
//   remove-target {nqn, portId?}    → {}
//   connect {traddr, nqn, hostnqn?, trsvcid?, extra?} → {device}
//   disconnect {nqn}                → {}
import {
  connectDevice,
  createTarget,
  disconnect,
  loopDevice,
  removeTarget,
  type ConnectOptions,
  type TargetOptions,
} from './nvmet';

type Args = Record<string, unknown>;

const commands: Record<string, (a: Args) => Promise<unknown>> = {
  loop: (a) => Promise.resolve({ device: loopDevice(String(a.file), Number(a.sizeMiB)) }),
  target: (a) => {
    createTarget(a as unknown as TargetOptions);
    return Promise.resolve({});
  },
  'remove-target': (a) => {
    removeTarget(String(a.nqn), a.portId === undefined ? 1 : Number(a.portId));
    return Promise.resolve({});
  },
  connect: async (a) => ({ device: await connectDevice(a as unknown as ConnectOptions) }),
  disconnect: async (a) => {
    await disconnect(String(a.nqn));
    return {};
  },
};

async function main(argv: string[]): Promise<void> {
  const [name, json] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (command === undefined) {
    throw new Error(`usage: cli.js <${Object.keys(commands).join('|')}> '<json>'`);
  }
  const result = await command(JSON.parse(json ?? '{}') as Args);
  console.log(JSON.stringify(result));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
