/**
 * The `torch` adapters: clients/python/examples/torch_adapter.py (PyTorch, written only against the
 * stdio protocol) run by the interpreter of `.venv-torch`, which `npm run setup:torch` creates.
 * Without that environment each is unavailable with that fix; with it, an external command adapter
 * like any `--adapter-command` (float32; variants differ only in the program's arguments).
 */
import * as path from 'path';
import type { AdapterEntry } from '../types';
import { repoRoot } from '../keras/python-env';
import { venvProgramAdapter, venvPython } from './venv-program';

export const TORCH_VENV = '.venv-torch';
export const TORCH_SETUP_COMMAND = 'npm run setup:torch';

export function torchPython(root = repoRoot()): string {
  return venvPython(root, TORCH_VENV);
}

export function torchScript(root = repoRoot()): string {
  return path.join(root, 'clients', 'python', 'examples', 'torch_adapter.py');
}

function torchEntry(
  id: string,
  args: string[],
  summary: string,
  suiteOptIn?: string,
  device: { device: 'cpu' | 'cuda'; profile: 'fp32-cpu' | 'tf32-gpu' } = { device: 'cpu', profile: 'fp32-cpu' },
): AdapterEntry & { host: 'python' } {
  return {
    id,
    ...(suiteOptIn ? { suiteOptIn } : {}),
    summary: `${summary}: ${['clients/python/examples/torch_adapter.py', '--device', device.device, ...args].join(' ')} in .venv-torch (npm run setup:torch)`,
    profile: device.profile,
    outOfTheBox: false,
    host: 'python',
    create() {
      const root = repoRoot();
      return venvProgramAdapter({
        id,
        root,
        python: torchPython(root),
        script: torchScript(root),
        // The device is explicit: `auto` would move a CPU entry onto a GPU, whose profile differs.
        args: ['--device', device.device, ...args, '--name', id],
        setup: TORCH_SETUP_COMMAND,
        what: 'the PyTorch environment',
      });
    },
  };
}

export const TORCH_ENTRIES: ReadonlyArray<AdapterEntry & { host: 'python' }> = [
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
  // On CUDA, TF32 is a choice of the program (torch.backends.cuda.matmul / cudnn.allow_tf32): off it
  // must meet the float32 rows, on it is judged by the tf32 profile. Without a CUDA device the
  // program reports itself unavailable with the reason and the fix.
  torchEntry(
    'torch-cuda-fp32',
    [],
    'PyTorch eager on CUDA, TF32 off (allow_tf32 False for matmul and cuDNN)',
    undefined,
    { device: 'cuda', profile: 'fp32-cpu' },
  ),
  torchEntry(
    'torch-cuda-tf32',
    ['--tf32'],
    'PyTorch eager on CUDA, TF32 on (allow_tf32 True for matmul and cuDNN)',
    undefined,
    { device: 'cuda', profile: 'tf32-gpu' },
  ),
];
