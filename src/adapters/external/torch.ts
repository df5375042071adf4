/**
 * The `torch` adapters: clients/python/examples/torch_adapter.py (PyTorch, written only against the
 * stdio protocol) run by the interpreter of `.venv-torch`, which `npm run setup:torch` creates.
 * Without that environment each is unavailable with that fix; with it, an external command adapter
 * like any `--adapter-command` (float32; variants differ only in the program's arguments).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { AdapterEntry } from '../types';
import { repoRoot } from '../keras/python-env';
import { CommandAdapter } from './command';

export const TORCH_VENV = '.venv-torch';
export const TORCH_SETUP_COMMAND = 'npm run setup:torch';

export function torchPython(root = repoRoot()): string {
  return process.platform === 'win32'
    ? path.join(root, TORCH_VENV, 'Scripts', 'python.exe')
    : path.join(root, TORCH_VENV, 'bin', 'python');
}

export function torchScript(root = repoRoot()): string {
  return path.join(root, 'clients', 'python', 'examples', 'torch_adapter.py');
}

function torchEntry(id: string, args: string[], summary: string, suiteOptIn?: string): AdapterEntry {
  return {
    id,
    ...(suiteOptIn ? { suiteOptIn } : {}),
    summary: `${summary}: ${['clients/python/examples/torch_adapter.py', ...args].join(' ')} in .venv-torch (npm run setup:torch)`,
    profile: 'fp32-cpu',
    outOfTheBox: false,
    create() {
      const root = repoRoot();
      const python = torchPython(root);
      const script = torchScript(root);
      // --device cpu: the profile is fp32-cpu; a CUDA build of torch would otherwise pick the GPU.
      const command = [python, script, '--device', 'cpu', ...args, '--name', id];
      const adapter = new CommandAdapter({ id, command, cwd: root, fix: TORCH_SETUP_COMMAND });
      const probe = adapter.probe.bind(adapter);
      adapter.probe = async () => {
        if (!fs.existsSync(python))
          return {
            available: false,
            reason: `${path.relative(root, python) || python} is missing: the PyTorch environment is not set up`,
            fix: TORCH_SETUP_COMMAND,
          };
        if (!fs.existsSync(script))
          return {
            available: false,
            reason: `${script} is missing`,
            fix: 'reinstall resnet-conformance (clients/python ships with it)',
          };
        return probe();
      };
      return adapter;
    },
  };
}

export const TORCH_ENTRIES: readonly AdapterEntry[] = [
  torchEntry('torch', [], 'PyTorch 2.13 CPU eager (oneDNN on, contiguous NCHW, float32) through the stdio protocol'),
  // The variants differ from `torch` in the last bits (docs/torch.md: not bit-identical), so each is its own row.
  torchEntry(
    'torch-mkldnn-off',
    ['--mkldnn', 'off'],
    'PyTorch 2.13 CPU eager with oneDNN off (torch.backends.mkldnn.enabled=False: ATen convolutions)',
  ),
  torchEntry(
    'torch-channels-last',
    ['--memory-format', 'channels_last'],
    'PyTorch 2.13 CPU eager, weights and input in torch.channels_last (NHWC strides)',
  ),
  torchEntry(
    'torch-compile',
    ['--compile'],
    'PyTorch 2.13 CPU, torch.compile (Inductor C++, fullgraph, static shapes): one compile per (training, captures, batch)',
    'compile time (a cold ResNet-50 graph took 44-114 s here, 6 of them for the default cases); the parameterized suites run it when CONFORMANCE_ADAPTERS names it',
  ),
];
