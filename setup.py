"""Install nengo_lmu; pinned: ``pip install -c constraints.txt -e .[all]``."""

import pathlib
import runpy

from setuptools import find_packages, setup

root = pathlib.Path(__file__).parent
version = runpy.run_path(str(root / "nengo_lmu" / "version.py"))["version"]

dl_requires = ["nengo-dl>=3.6,<3.7", "tensorflow>=2.10,<2.13", "h5py"]
tests_requires = ["pytest>=7", "pytest-xdist", "keras-lmu>=0.7,<0.8"]
tasks_requires = ["scikit-learn>=1.0"]  # psDigits
# papermill runs the notebooks (tests/test_notebooks.py); ipykernel provides the
# "python3" Jupyter kernel; ipython < 8.23: see constraints.txt
notebooks_requires = ["papermill>=2.4", "ipykernel>=6", "ipython>=8,<8.23"]
# Sphinx builds docs/ (make docs); Sphinx < 9: see constraints.txt
docs_requires = [
    "sphinx>=8,<9",
    "furo",
    "myst-nb>=1",
    "numpydoc>=1.6",
    "sphinx-mathjax-offline",
]

setup(
    name="nengo-lmu",
    version=version,
    description="Legendre Memory Units built the Nengo way",
    long_description=(root / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["nengo_lmu", "nengo_lmu.*"]),
    python_requires=">=3.8",
    install_requires=["nengo>=3.2", "numpy>=1.21", "scipy>=1.7", "matplotlib>=3.5"],
    extras_require={
        "dl": dl_requires,
        "tasks": tasks_requires,
        "tests": tests_requires,
        "notebooks": notebooks_requires,
        "docs": docs_requires,
        "all": (
            dl_requires
            + tasks_requires
            + tests_requires
            + notebooks_requires
            + docs_requires
        ),
    },
    entry_points={"console_scripts": ["nengo-lmu=nengo_lmu.cli:main"]},
    license="MIT",
)
