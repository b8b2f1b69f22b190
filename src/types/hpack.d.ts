declare module 'hpack.js' {
  import type { Duplex } from 'node:stream';

  export interface HeaderField {
    name: string;
    value: string;
    neverIndex: boolean;
  }

  export interface Decompressor extends Duplex {
    execute(cb?: (err: Error | null) => void): void;
    read(): HeaderField | null;
  }

  export const decompressor: {
    create(options: { table: { size: number } }): Decompressor;
  };
}
