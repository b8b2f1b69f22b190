/**
 * Configuration of the RouterOS SSH adapter, as the composition root passes it to
 * `createRouterOsPorts` (src/routeros/index.ts). Validated there, all errors at once.
 */
export interface RouterOsConfig {
  readonly host: string;
  /** SSH port (default 22). */
  readonly port?: number;
  /** User name without console options; `+ct4096w` is appended unless `consoleOptions` is false. */
  readonly user: string;
  /** PEM/OpenSSH private key (ed25519 or RSA). */
  readonly privateKey: string | Buffer;
  readonly passphrase?: string;
  /** Pinned host key, `SHA256:<base64 without padding>` as `ssh-keygen -l` prints it. */
  readonly hostKeyFingerprint?: string;
  /** Connect without a pin (logged loudly). Refused when neither this nor a pin is given. */
  readonly insecureSkipHostKey?: boolean;
  /** Directory for disk images, without leading `/`, e.g. `storage-pool/k8s`. */
  readonly poolBasePath: string;
  /** Mount point of the pool disk for capacity (default: first segment of poolBasePath). */
  readonly poolMountPoint?: string;
  /** Append `+ct4096w` to the user (default true). */
  readonly consoleOptions?: boolean;
  /** Default per-command timeout (default 30 000 ms). */
  readonly commandTimeoutMs?: number;
  /** SSH handshake timeout (default 15 000 ms). */
  readonly connectTimeoutMs?: number;
  /** Channels in flight at once; more calls queue FIFO (default 4). */
  readonly maxChannels?: number;
  /** Idle interval between liveness probes (default 30 000 ms; 0 disables). */
  readonly livenessIntervalMs?: number;
  /** Reconnect backoff: first delay and cap (defaults 500 ms and 30 000 ms). */
  readonly reconnectBaseMs?: number;
  readonly reconnectMaxMs?: number;
  /** Force an output form instead of choosing by version (tests, odd firmware). */
  readonly outputForm?: OutputForm;
}

/** Machine-readability of `print` output, best first. */
export type OutputForm = 'json' | 'terse' | 'detail';
