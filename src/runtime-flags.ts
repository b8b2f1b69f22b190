/**
 * Node.js flags the node plugin runs with, one source for the places that start it: the
 * chart's node DaemonSet puts them before main.js (a test keeps the two equal) and the
 * startup and node-path benchmarks start the plugin with them, so they measure what runs.
 *
 * `--lite-mode` keeps V8 to its interpreter and baseline tier with lazily allocated
 * feedback: the node plugin is I/O-bound (a few RPCs a minute, each waiting on the kernel
 * and on mkfs), and without the optimizing compilers its idle RSS drops from about 82 to
 * about 64 MiB (test/bench/startup.ts). The controller keeps V8's defaults: it parses
 * RouterOS output and serves the attacher's bursts.
 */
export const NODE_PLUGIN_NODE_FLAGS: readonly string[] = ['--lite-mode'];
