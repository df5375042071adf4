"""
A corpus of JPEGs made by PIL, with PIL's own decodes, for measuring how far the harness's JPEG
decoder (src/images/jpeg.ts) is from PIL (libjpeg-turbo): scripts/measure-jpeg-vs-pil.ts.

    .venv/bin/python scripts/jpeg-corpus.py [OUT_DIR]     (default .tmp/jpeg-corpus)

Deterministic (seeded NumPy; PIL's libjpeg-turbo). Content: smooth synthetic "photos" (low-frequency
colour fields, soft shading), the same with saturated shapes (hard colour edges: the worst case for
chroma upsampling), and colour noise; at sizes with even and odd sides; qualities 50..100; chroma
subsampling 4:2:0, 4:2:2 and 4:4:4; baseline and progressive. Writes <name>.jpg, <name>.rgb (PIL's
Image.open(...).convert('RGB') bytes) and index.json.
"""
import json
import os
import sys

import numpy as np
from PIL import Image, features

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join('.tmp', 'jpeg-corpus')
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261207)


def smooth(h, w):
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.zeros((h, w, 3))
    for c in range(3):
        for _ in range(4):
            fx, fy, ph = rng.uniform(0.5, 4), rng.uniform(0.5, 4), rng.uniform(0, 6.3)
            img[..., c] += np.sin(2 * np.pi * (fx * xx + fy * yy) + ph)
    img = (img - img.min()) / (np.ptp(img) + 1e-9)
    return (img * 235 + 10).astype(np.uint8)


def shapes(h, w):
    img = smooth(h, w).astype(np.int32)
    yy, xx = np.mgrid[0:h, 0:w]
    sat = [(255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 0, 255), (255, 255, 0), (0, 255, 255), (0, 0, 0), (255, 255, 255)]
    for _ in range(12):
        col = sat[rng.integers(len(sat))]
        if rng.random() < 0.5:
            cy, cx, r = rng.integers(h), rng.integers(w), rng.integers(3, max(4, min(h, w) // 4))
            m = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        else:
            y0, x0 = rng.integers(h), rng.integers(w)
            m = (yy >= y0) & (yy < y0 + rng.integers(2, h // 2 + 3)) & (xx >= x0) & (xx < x0 + rng.integers(2, w // 2 + 3))
        img[m] = col
    return img.astype(np.uint8)


def noise(h, w):
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


index = []
for kind, make in [('smooth', smooth), ('shapes', shapes), ('noise', noise)]:
    for (w, h) in [(64, 64), (97, 61), (224, 224), (256, 171)]:
        src = make(h, w)
        for q in [50, 75, 90, 95, 100]:
            for sub, tag in [(2, '420'), (1, '422'), (0, '444')]:
                for prog in [False, True]:
                    if prog and q not in (75,):
                        continue
                    name = f'{kind}-{w}x{h}-q{q}-{tag}{"-prog" if prog else ""}'
                    path = os.path.join(out, name + '.jpg')
                    Image.fromarray(src).save(path, quality=q, subsampling=sub, progressive=prog)
                    rgb = np.asarray(Image.open(path).convert('RGB'))
                    rgb.tofile(os.path.join(out, name + '.rgb'))
                    index.append({'name': name, 'kind': kind, 'width': w, 'height': h, 'quality': q,
                                  'sampling': tag, 'progressive': prog})
with open(os.path.join(out, 'index.json'), 'w') as f:
    json.dump({'pillow': Image.__version__, 'libjpeg_turbo': features.version('libjpeg_turbo'), 'images': index}, f, indent=1)
print(f'{len(index)} JPEGs in {out} (Pillow {Image.__version__}, libjpeg-turbo {features.version("libjpeg_turbo")})')
