/**
 * The metric hooks the RouterOS adapter reports through, and their binding to the shared
 * Metrics object. Labels come from closed sets: command names from the builders, outcomes
 * from DomainErrorCode plus `success`.
 */
import type { Metrics } from '../observability/metrics';

export interface RouterOsMetrics {
  command(name: string, outcome: string, seconds: number): void;
  reconnect(status: 'success' | 'failure'): void;
  connectionState(up: boolean): void;
}

export const noMetrics: RouterOsMetrics = {
  command: () => undefined,
  reconnect: () => undefined,
  connectionState: () => undefined,
};

export function routerOsMetrics(
  m: Pick<Metrics, 'rdsCommandDuration' | 'rdsReconnects' | 'rdsConnectionState'>,
): RouterOsMetrics {
  return {
    command: (command, outcome, seconds) =>
      m.rdsCommandDuration.observe({ command, outcome }, seconds),
    reconnect: (status) => m.rdsReconnects.inc({ status }),
    connectionState: (up) => m.rdsConnectionState.set(up ? 1 : 0),
  };
}
