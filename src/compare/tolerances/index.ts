/**
 * THE tolerance table (reviewed; one place): (case class, tensor role, precision profile) -> a row
 * with a reason. The folder:
 *   table/<profile>.ts  the rows, one line each: t(case class, role, atol, rtol, reason key) or
 *                       d(case class, role, reason key, own tight bound?) — one screen per profile
 *   reasons.ts          why, each reason written once and keyed
 *   case-classes.ts     one record per case class (its roles, what it holds)
 *   known-defects.ts    runtime bugs, keyed by adapter id
 *   check-allowances.ts the named checks' allowances (softmax row sums)
 *   lookup.ts           resolveTolerance and the other lookups
 *   docs/tolerances.md  the measurements behind every row (adapters, worst elements, dates, versions)
 *
 * A row is either
 *  - a tolerance {atol, rtol}: the tensor passes when |actual - expected| <= atol + rtol*|expected|
 *    everywhere (compareTensors, src/compare/metrics.ts; the float32 ULP distance is measured and
 *    reported, but is no criterion), or
 *  - an expected divergence (strict, as ONNX's xfail): the adapters of that profile are known not to
 *    reproduce these values. A case whose tensors fall under such a row is 'expected-divergence' when
 *    they are finite, of the right shape and NOT all within the tight bound (the row's own, else the
 *    fp32-cpu row of the same class and role); 'unexpected-match' (a failure: the row is stale) when
 *    all of them are within it; and fail-numeric / fail-shape on NaN/Inf or a wrong shape, as under
 *    any row. The tensors of one case under one row are judged together, since a divergence that
 *    starts deep in the network leaves the early activations close.
 *
 * Tensor roles: 'probabilities' (a ResNet-50's softmax output), 'logits' (its pre-softmax dense
 * output), 'activations' (its intermediate layer outputs), 'output' (a block's output and the
 * notebook's resume of it).
 *
 * Rules for editing:
 *  - The notebook's own np.allclose tolerance is the strictest entry for its published values.
 *  - A profile whose adapters do not reproduce the values at all gets an expected-divergence row,
 *    never a tolerance so loose that only NaN/Inf or a wrong shape fail it.
 *  - Loosening beyond the notebook's tolerance (np.allclose defaults rtol 1e-5, atol 1e-8) needs a
 *    reason (reasons.ts) and measurements: run every adapter of the profile on the committed fixtures
 *    (`npx jest suites/fixtures` writes every comparison's metrics to .tmp/fixture-metrics/<adapter>.jsonl;
 *    a report shows each comparison's "needs atol X at rtol R") and log them in docs/tolerances.md under
 *    the row's heading. Entries keep a margin of about 2-3x over the worst measurement.
 */
export * from './types';
export * from './case-classes';
export { REASONS, type ReasonKey } from './reasons';
export { TOLERANCES, ROWS_BY_PROFILE, type ToleranceTable } from './table';
export { SOFTMAX_SUM_TOLERANCES } from './check-allowances';
export * from './known-defects';
export * from './lookup';
