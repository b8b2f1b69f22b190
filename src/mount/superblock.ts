/**
 * Pure readers of a filesystem's own idea of its size from its superblock, so staging can
 * tell whether the device grew without running a tool. Input: the first 4 KiB of the device.
 */
const EXT_SB = 1024;
const EXT_MAGIC = 0xef53;
const EXT_INCOMPAT_64BIT = 0x80;

/** Size in bytes of the ext2/3/4 filesystem in `head`, or undefined when it is not one. */
export function extSize(head: Buffer): number | undefined {
  if (head.length < EXT_SB + 0x158) return undefined;
  if (head.readUInt16LE(EXT_SB + 0x38) !== EXT_MAGIC) return undefined;
  const logBlock = head.readUInt32LE(EXT_SB + 0x18);
  if (logBlock > 6) return undefined;
  const blockSize = 1024 << logBlock;
  const lo = head.readUInt32LE(EXT_SB + 0x04);
  const incompat = head.readUInt32LE(EXT_SB + 0x60);
  const hi = incompat & EXT_INCOMPAT_64BIT ? head.readUInt32LE(EXT_SB + 0x150) : 0;
  return (hi * 2 ** 32 + lo) * blockSize;
}

/** Size in bytes of the XFS data section in `head`, or undefined when it is not XFS. */
export function xfsSize(head: Buffer): number | undefined {
  if (head.length < 16 || head.toString('latin1', 0, 4) !== 'XFSB') return undefined;
  const blockSize = head.readUInt32BE(4);
  const blocks = Number(head.readBigUInt64BE(8));
  return blockSize * blocks;
}

export const SUPERBLOCK_BYTES = 4096;
