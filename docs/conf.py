"""Sphinx configuration of the nengo_lmu documentation (``make docs``)."""

import importlib
import inspect
import pathlib
import pkgutil
import sys

from sphinx.util import logging

ROOT = pathlib.Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout's nengo_lmu

import nengo_lmu  # noqa: E402

project = "nengo_lmu"
author = "the nengo_lmu authors"
copyright = "2026, the nengo_lmu authors"  # noqa: A001
release = nengo_lmu.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax shipped with the site: math shows offline too
    "sphinx.ext.viewcode",
    "numpydoc",  # the docstrings are numpydoc
    "myst_nb",  # MyST markdown pages and the notebooks (their committed outputs)
]

# The theme: furo, a maintained theme (releases through 2025, current Sphinx), with
# readable code and output cells. nengo-sphinx-theme would match Nengo's own sites,
# but its last release (20.9) is from 2020, made for the Sphinx of then.
html_theme = "furo"
html_title = f"nengo_lmu {release}"

# docs/notebooks is a link to ../notebooks: the committed notebooks, rendered with
# their outputs, never executed here (myst-nb needs no pandoc)
nb_execution_mode = "off"
exclude_patterns = ["_build", "notebooks/README.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
myst_enable_extensions = ["dollarmath", "amsmath"]  # the notebooks' $...$ math
myst_heading_anchors = 3  # README.md#section-style links into the pages

# every cross-reference must resolve (make docs builds with -W)
nitpicky = True
default_role = "py:obj"  # `name` in docstrings is a cross-reference
# other projects' names are not linked (the build has no network for intersphinx)
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(nengo|nengo_dl|nengo_ocl|nengo_loihi|nir|pyopencl|tf|tensorflow|keras|keras_lmu|np|numpy|scipy|sklearn|pathlib|torch)(\..*)?",
    ),
]

autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
numpydoc_show_class_members = False  # autodoc lists the members
numpydoc_class_members_toctree = False
# methods without a docstring of their own (Nengo's, NengoDL's builder API) stay bare:
# the inherited text names objects relative to nengo or nengo_dl
autodoc_inherit_docstrings = False


_current_module = []  # the module autodoc is documenting


def note_module(app, what, name, obj, options, lines):
    if what == "module":
        _current_module[:] = [name]


def skip_reexported(app, what, name, obj, skip, options):
    """Document a name of ``nengo_lmu.__all__`` once, as ``nengo_lmu.NAME``."""
    if what == "module" and _current_module != ["nengo_lmu"]:
        if name in nengo_lmu.__all__ and getattr(nengo_lmu, name) is obj:
            return True
    return None


def resolve_as_imported(app, env, node, contnode):
    """Resolve a docstring's `name` as Python would in the docstring's module.

    The docstrings name nengo_lmu objects as they are imported where they are written
    (``to_spiking``, ``hybrid.to_spiking``), while this site documents the names of
    ``nengo_lmu.__all__`` as ``nengo_lmu.NAME`` and the rest in their modules.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    name = target.rsplit(".", 1)[-1]
    domain = env.get_domain("py")
    if name in nengo_lmu.__all__:
        candidates = [f"nengo_lmu.{name}"]
    else:
        candidates = [full for full in domain.objects if full.endswith(f".{target}")]
    if len(candidates) != 1 or candidates[0] not in domain.objects:
        return None
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, "obj", candidates[0], node, contnode
    )


def public_names():
    """Every public class and function of nengo_lmu, with its module's name."""
    names = [("nengo_lmu", name) for name in nengo_lmu.__all__]
    for info in pkgutil.walk_packages(nengo_lmu.__path__, prefix="nengo_lmu."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                name.startswith("_")
                or getattr(obj, "__module__", None) != module.__name__
            ):
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                names.append((module.__name__, name))
    return names


def check_api_complete(app, env):
    """Warn (an error with -W) about a public name without an API entry."""
    objects = env.get_domain("py").objects
    for module, name in public_names():
        if f"{module}.{name}" not in objects and f"nengo_lmu.{name}" not in objects:
            logging.getLogger(__name__).warning(
                f"{module}.{name} has no API entry (give it a docstring, or list its "
                "module in docs/api.rst)"
            )


def setup(app):
    app.connect("env-check-consistency", check_api_complete)
    app.connect("missing-reference", resolve_as_imported)
    app.connect("autodoc-process-docstring", note_module)
    app.connect("autodoc-skip-member", skip_reexported)
