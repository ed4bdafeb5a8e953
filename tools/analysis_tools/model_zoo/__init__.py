"""The repository's model zoo: metafiles, the docs generated from them, and publishing result records into them.

A tool package, imported by ``gen_model_zoo.py`` beside it (the mmssl package never reads or writes the
repository's docs or metafiles); its tables come from :mod:`mmssl.benchmarks.tables`, where the suite renders its
own records too.

- :mod:`.metafile`: loading and checking ``model-index.yml``, the metafiles and ``published.yml`` (with
  ``modelindex``), and their canonical text.
- :mod:`.publish`: merging a result record into a model's Results (:func:`add_result`), with the grid point a
  selection run chose as the result's Notes.
- :mod:`.render`: the text of a method README's block, of ``docs/en/model_zoo.md``, and the comparison with
  published numbers.
- :mod:`.demo`: the demo run's stored records and their tables in ``docs/en/get_started.md``.
- :mod:`.docs`: every generated file, written or checked (:func:`generate`, :func:`stale_files`).
"""
from mmssl.benchmarks.tables import ModelZooError

from .demo import DEMO_BEGIN_MARKER, DEMO_DOC, DEMO_END_MARKER, DEMO_RESULTS, demo_results, write_demo_results
from .docs import generate, replace_block, stale_files, write_generated
from .metafile import (METAFILE_HEADER, MODEL_INDEX, PUBLISHED_FILE, RANDOM_WEIGHTS, RELEASED_WEIGHTS, Metafile,
                       canonical_results, dump_metafile, find_model, is_released, load_metafile, load_model_index)
from .publish import add_result
from .render import BEGIN_MARKER, END_MARKER, MODEL_ZOO_DOC, compare_published, model_zoo_doc, readme_block

__all__ = [
    'ModelZooError', 'DEMO_BEGIN_MARKER', 'DEMO_DOC', 'DEMO_END_MARKER', 'DEMO_RESULTS', 'demo_results',
    'write_demo_results', 'generate', 'replace_block', 'stale_files', 'write_generated', 'METAFILE_HEADER',
    'MODEL_INDEX', 'PUBLISHED_FILE', 'RANDOM_WEIGHTS', 'RELEASED_WEIGHTS', 'Metafile', 'is_released',
    'canonical_results', 'dump_metafile', 'find_model', 'load_metafile', 'load_model_index', 'add_result',
    'BEGIN_MARKER', 'END_MARKER', 'MODEL_ZOO_DOC', 'compare_published', 'model_zoo_doc', 'readme_block'
]
