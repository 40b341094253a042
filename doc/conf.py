# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Sphinx configuration: API reference, user guide and example gallery."""

import sklearn_implicit

project = "sklearn_implicit"
author = "The sklearn_implicit developers"
copyright = "2026, The sklearn_implicit developers"
version = release = sklearn_implicit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
numpydoc_show_class_members = False
default_role = "py:obj"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": "sklearn_implicit",
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_implicit": None},
}

html_theme = "pydata_sphinx_theme"
html_title = "sklearn_implicit"
templates_path = ["_templates"]
exclude_patterns = ["_build"]


def skip_metadata_requests(app, what, name, obj, skip, options):
    # scikit-learn generates set_*_request methods on every estimator; they
    # are documented there, not here.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", skip_metadata_requests)
