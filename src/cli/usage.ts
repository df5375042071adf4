/** Usage lines of the commands whose options are spelled out in several places (no imports: the CLI's command table loads it at start-up). */

export const RUN_USAGE = 'run [--adapters a,b|all] [--cases pattern,...] [--out reports/<run-id>] [--baseline report.json] '
  + '[--regression-factor 2] [--shard i/n] [--timeout 300] [--jobs 2] [--fixtures dir] [--bench bench.json] [--no-diagnose] [--verbose]';

export const COMPARE_USAGE = 'compare <old-report.json> <new-report.json> [--regression-factor 2] [--json]\n'
  + '  resnet-conformance compare <old-bench.json> <new-bench.json> [--noise-floor 0.1] [--noise-profile noise.json] [--normalize auto|always|never] [--json]';
