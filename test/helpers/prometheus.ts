/** Reading Prometheus text exposition the way a scrape sees it. */

/** The value of one series (`name` or `name{labels}` exactly as exposed), or undefined. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
