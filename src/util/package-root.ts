import * as fs from 'fs';
import * as path from 'path';

/** The directory of this package (the nearest package.json named resnet-conformance above this file). */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string };
        if (pkg.name === 'resnet-conformance') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}
