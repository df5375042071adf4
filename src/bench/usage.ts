/** Usage of `resnet-conformance bench` (no imports: the CLI's command table loads it at start-up). */
export const BENCH_USAGE = 'bench [--adapters a,b|all] [--batch 1,8] [--runs N] [--warmup N] [--min-time-ms 2000] [--json out.json] [--md out.md]\n'
  + '      [--no-ceiling] [--no-paired-ceiling] [--ceiling-n 2048] [--ceiling-runtimes onnxruntime-node,tfjs-node,tfjs-wasm] [--timeout 600] [--layers] [--verbose]\n'
  + '  resnet-conformance bench --compare a.json b.json [--noise-floor 0.1] [--noise-profile noise.json] [--normalize auto|always|never] [--json diff.json]\n'
  + '  resnet-conformance bench --noise r1.json r2.json [...] [--json noise.json]\n'
  + '  resnet-conformance bench --harness [--json out.json] [-- <run options, e.g. --adapters reference --out dir>]';
