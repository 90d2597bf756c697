"""psd-tools' side of `strata bench psd-open`: for each PSD/PSB given, writes psd-tools'
own composite of the layers (`composite(ignore_preview=True)`) and its reading of the stored
composite as RGBA PNGs into OUT_DIR, named by the file's position in the argument list.

Usage: python3 psd_tools_composite.py OUT_DIR FILE...
Prints one line per file: `INDEX ok` or `INDEX error MESSAGE`.
"""

import os
import sys
import warnings

import numpy as np
from PIL import Image
from psd_tools import PSDImage


def stored_image(psd):
    """The stored composite as PIL; `topil` gives up on 16- and 32-bit files, `numpy` not."""
    image = psd.topil()
    if image is not None:
        return image
    array = np.round(np.clip(psd.numpy(), 0, 1) * 255).astype(np.uint8)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[array.shape[2]]
    return Image.fromarray(array if array.shape[2] > 1 else array[..., 0], mode)


def main():
    out_dir, files = sys.argv[1], sys.argv[2:]
    warnings.simplefilter("ignore")
    for index, path in enumerate(files):
        try:
            psd = PSDImage.open(path)
            rendered = psd.composite(ignore_preview=True)
            stored = stored_image(psd)
            if rendered is None or stored is None:
                raise ValueError("no image")
            rendered.convert("RGBA").save(os.path.join(out_dir, f"{index}.render.png"))
            stored.convert("RGBA").save(os.path.join(out_dir, f"{index}.stored.png"))
            print(index, "ok", flush=True)
        except Exception as err:  # a peer failing on a file is a result, not a crash
            message = " ".join(str(err).split()) or type(err).__name__
            print(index, "error", message, flush=True)


if __name__ == "__main__":
    main()
