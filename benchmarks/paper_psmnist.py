"""The LMU paper's pretrained psMNIST model imported into nengo_lmu (numbers in README).

Run: ``.venv/bin/python benchmarks/paper_psmnist.py [DATA_DIR]`` (about 5 minutes on 2
cores). Evaluates all 10,000 test images in NengoDL and the first 200 on the Nengo
reference simulator, with the paper's preprocessing.
"""

import sys
import time

import numpy as np

from nengo_lmu.convert import load_paper_weights
from nengo_lmu.data import data_dir, psmnist
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.train import predict

directory = data_dir(sys.argv[1] if len(sys.argv) > 1 else None)
data = psmnist("paper", directory)
net = SequenceClassifier(
    **load_paper_weights(directory / "lmu-paper/psMNIST-standard.hdf5")
)

t0 = time.perf_counter()
dl = predict(net, data.x_test, backend="nengo_dl", minibatch_size=500)
t_dl = time.perf_counter() - t0
correct = np.sum(np.argmax(dl, axis=1) == data.y_test)
print(
    f"NengoDL, 10000 test images: {correct}/10000 correct, accuracy "
    f"{correct / 10000:.4f} (paper: 0.9715); {10000 / t_dl:.0f} images/s incl. build"
)

t0 = time.perf_counter()
ref = predict(net, data.x_test[:200], backend="nengo")
t_ref = time.perf_counter() - t0
same = np.mean(np.argmax(ref, axis=1) == np.argmax(dl[:200], axis=1))
print(
    f"Nengo reference simulator, first 200 images: accuracy "
    f"{np.mean(np.argmax(ref, axis=1) == data.y_test[:200]):.4f}, same prediction as "
    f"NengoDL for {same:.0%}, max |score difference| "
    f"{np.abs(ref - dl[:200]).max():.1e}; "
    f"{200 * 784 / t_ref:.0f} steps/s"
)
