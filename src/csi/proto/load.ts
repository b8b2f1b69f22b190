/**
 * Loads the CSI proto once. The options must match scripts/gen-types.js so the generated
 * types describe exactly the objects the loader produces: snake_case keys, int64 as
 * decimal strings (exact; sizes are validated before use), enums as names, defaults
 * filled in, and oneof discriminators.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { packageRoot } from '../../paths';
import type { ProtoGrpcType } from '../gen/csi';

export const LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

let cached: { definition: protoLoader.PackageDefinition; grpcType: ProtoGrpcType } | undefined;

export function protoPath(): string {
  return join(packageRoot(), 'src/csi/proto/csi.proto');
}

export function loadCsi(): { definition: protoLoader.PackageDefinition; grpcType: ProtoGrpcType } {
  if (!cached) {
    const definition = protoLoader.loadSync(protoPath(), LOADER_OPTIONS);
    const grpcType = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
    cached = { definition, grpcType };
  }
  return cached;
}
