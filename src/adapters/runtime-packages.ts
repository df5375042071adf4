/**
 * The runtimes as npm packages. The core package (reference, external adapters, reports, the CLI)
 * installs none of them: each is an optional peer dependency pinned in package.json's
 * peerDependencies to the exact version the tolerance table was measured on. An adapter that needs
 * one names it (AdapterEntry.packages); before its probe runs, a missing package makes it
 * unavailable with the `npm install pkg@version` that enables it, and an installed package at
 * another version is recorded in the report (AdapterReport.runtimePackages), because tolerances
 * measured on one version say nothing certain about another.
 *
 * Nothing here loads a runtime: packages are located on disk (their package.json), never required.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Adapter, AdapterEntry } from './types';

/** One runtime package an adapter needs: the version tolerances were measured on, the one found here. */
export interface RuntimePackageState {
  name: string;
  /** The exact version in this package's peerDependencies (the one the tolerances were measured on). */
  measured: string;
  /** The version found from this package's location (what `require` loads); null: not installed. */
  installed: string | null;
}

/** This package's package.json: two folders up from src/adapters/ (and from dist/adapters/). */
const OWN_PACKAGE_JSON = path.join(__dirname, '..', '..', 'package.json');

let peers: Record<string, string> | undefined;

/** package.json peerDependencies: runtime package -> the exact version it was measured on. */
export function measuredVersions(): Record<string, string> {
  if (!peers) {
    const pkg = JSON.parse(fs.readFileSync(OWN_PACKAGE_JSON, 'utf8')) as { peerDependencies?: Record<string, string> };
    peers = { ...(pkg.peerDependencies ?? {}) };
  }
  return peers;
}

/** The measured version of a runtime package (throws for a package that is not a declared peer: a registry bug). */
export function measuredVersion(name: string): string {
  const v = measuredVersions()[name];
  if (v === undefined) throw new Error(`${name} is not in package.json peerDependencies (the runtime packages)`);
  return v;
}

/**
 * The version of `name` that `require(name)` from this package would load, or null when it is not
 * installed. Looks for <node_modules>/<name>/package.json along Node's own search path, so a
 * package whose `exports` hide package.json is found too.
 */
export function installedVersion(name: string): string | null {
  for (const dir of require.resolve.paths(name) ?? []) {
    const file = path.join(dir, name, 'package.json');
    if (!fs.existsSync(file)) continue;
    try {
      return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
    } catch {
      return null;
    }
  }
  return null;
}

export function packageStates(
  names: readonly string[],
  installed: (name: string) => string | null = installedVersion,
): RuntimePackageState[] {
  return names.map((name) => ({ name, measured: measuredVersion(name), installed: installed(name) }));
}

/** `npm install a@1 b@2`: what enables an adapter that needs these packages. */
export function installCommand(names: readonly string[]): string {
  return `npm install ${names.map((n) => `${n}@${measuredVersion(n)}`).join(' ')}`;
}

/** Installed at a version other than the measured one (missing packages are not listed). */
export function versionDrift(states: readonly RuntimePackageState[]): RuntimePackageState[] {
  return states.filter((s) => s.installed !== null && s.installed !== s.measured);
}

/** "onnxruntime-node 1.31.1 (tolerances measured on 1.30.0)": one drifted package in words. */
export function driftText(s: RuntimePackageState): string {
  return `${s.name} ${s.installed} (tolerances measured on ${s.measured})`;
}

/**
 * The entry with its probe guarded: when a package it needs is not installed, probe() answers
 * unavailable with the install command, and the adapter's own probe (which would load it) never runs.
 */
export function withRuntimePackages(
  entry: AdapterEntry,
  installed: (name: string) => string | null = installedVersion,
): AdapterEntry {
  const names = entry.packages;
  if (!names?.length) return entry;
  return {
    ...entry,
    create: (): Adapter => {
      const adapter = entry.create();
      const probe = adapter.probe.bind(adapter);
      adapter.probe = async (opts) => {
        const missing = packageStates(names, installed).filter((s) => s.installed === null);
        if (missing.length === 0) return probe(opts);
        return {
          available: false,
          reason: `not installed: ${missing.map((s) => s.name).join(', ')} (optional peer dependenc${missing.length > 1 ? 'ies' : 'y'} of resnet-conformance)`,
          fix: installCommand(names),
        };
      };
      return adapter;
    },
  };
}
