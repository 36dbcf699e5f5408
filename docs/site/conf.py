"""Sphinx configuration of the series' static site, built by ``python -m aeutils.site`` (see aeutils/site.py).

The pages are the executed notebooks of docs/notebooks/, read with their saved outputs and never run again
(myst-nb with execution off). Everything the pages load is on the site itself: MathJax 3 is copied into
``_static/mathjax/`` by the builder, because a MathJax from a CDN does not load offline or in CI.
"""

project = "Autoencoders, built and measured"
author = "the autoencoder-tutorials authors"
extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

nb_execution_mode = "off"  # the outputs are the ones the full-mode harness saved
nb_ipywidgets_js = {}  # no widget manager from a CDN: the saved notebooks hold no live widgets
myst_enable_extensions = ["dollarmath", "amsmath"]
suppress_warnings = ["myst.header"]  # notebooks jump from a title to ### headings in places

html_theme = "alabaster"
html_theme_options = {  # room for the notebooks' 120-character code lines beside the sidebar
    "page_width": "1380px", "body_max_width": "none", "sidebar_width": "230px", "show_relbars": True,
}
html_title = project
html_favicon = "favicon.svg"  # without one, browsers ask the server for /favicon.ico and get a 404
html_static_path = ["_static"]
html_show_sourcelink = False
html_show_copyright = False
html_copy_source = False  # the .ipynb sources are in the repository; the site is for reading

# MathJax 3, served from the site (SVG output: one self-contained file, no web fonts)
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {"svg": {"fontCache": "global"}}
