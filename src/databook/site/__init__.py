"""The databook web site: static HTML rendered offline from mystmd's page JSON.

mystmd resolves the article (citations, numbering, KaTeX math, notebook outputs) and
serves it as JSON from a local content server; :mod:`databook.site.render` turns that
JSON into static pages with Jinja2. ``python -m databook.site`` is the ``build.render``
command of ``templates/site/template.yml``.
"""

__all__ = ["render"]
