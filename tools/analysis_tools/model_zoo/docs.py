"""Generating and checking the repository's model-zoo documents.

Generated outputs (:func:`generate`): the block between :data:`~.render.BEGIN_MARKER` and
:data:`~.render.END_MARKER` in every method README named by a collection, the whole of ``docs/en/model_zoo.md``, and
the demo tables of ``docs/en/get_started.md``. Output depends only on the sources (no dates, fixed ordering and
number formatting), so a second run is byte-identical and :func:`stale_files` can tell whether the committed docs
are current.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmssl.benchmarks.tables.layout import fail

from .demo import DEMO_BEGIN_MARKER, DEMO_DOC, DEMO_END_MARKER, DEMO_RESULTS, demo_block
from .metafile import Metafile, load_model_index
from .render import BEGIN_MARKER, END_MARKER, MODEL_ZOO_DOC, model_zoo_doc, readme_block


def replace_block(text: str, block: str, where: str, markers: Tuple[str, str] = (BEGIN_MARKER, END_MARKER)) -> str:
    """``text`` with the block between ``markers`` replaced by ``block`` (which includes the markers)."""
    begin_marker, end_marker = markers
    begin, end = text.count(begin_marker), text.count(end_marker)
    if begin != 1 or end != 1:
        fail(where, f'expected exactly one "{begin_marker}" and one "{end_marker}" line, found {begin} and {end}')
    start, stop = text.index(begin_marker), text.index(end_marker) + len(end_marker)
    if stop < start:
        fail(where, 'the model-zoo end marker comes before the begin marker')
    return text[:start] + block + text[stop:]


def _readme_metafiles(metafiles: List[Metafile]) -> Dict[str, List[Metafile]]:
    """Method README -> the part of every metafile it shows: the collections naming it and their models (a
    metafile may point several collections elsewhere)."""
    owners: Dict[str, List[Metafile]] = {}
    for metafile in metafiles:
        for collection in metafile.collections:
            found = owners.setdefault(collection['README'], [])
            if metafile not in found:
                found.append(metafile)
    readmes = {}
    for readme, found in sorted(owners.items()):
        subset = []
        for metafile in found:
            collections = [c for c in metafile.collections if c['README'] == readme]
            names = {c['Name'] for c in collections}
            models = [model for model in metafile.models if model['In Collection'] in names]
            published = {name: results for name, results in metafile.published.items()
                         if any(model['Name'] == name for model in models)}
            subset.append(Metafile(metafile.path, collections, models, published, metafile.published_source))
        readmes[readme] = subset
    return readmes


def _read(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read()


def generate(root: str, metafiles: Optional[List[Metafile]] = None) -> Dict[str, str]:
    """Every generated file (path relative to ``root`` -> full new text)."""
    metafiles = load_model_index(root) if metafiles is None else metafiles
    outputs = {}
    for readme, subset in _readme_metafiles(metafiles).items():
        outputs[readme] = replace_block(_read(osp.join(root, readme)), readme_block(subset, readme), readme)
    outputs[MODEL_ZOO_DOC] = model_zoo_doc(metafiles)
    if osp.isfile(osp.join(root, DEMO_RESULTS)):
        run = json.loads(_read(osp.join(root, DEMO_RESULTS)))
        outputs[DEMO_DOC] = replace_block(_read(osp.join(root, DEMO_DOC)), demo_block(run, root), DEMO_DOC,
                                          (DEMO_BEGIN_MARKER, DEMO_END_MARKER))
    return outputs


def stale_files(root: str) -> List[str]:
    """Generated files whose committed text differs from what :func:`generate` gives (relative to ``root``)."""
    stale = []
    for path, text in generate(root).items():
        current = _read(osp.join(root, path)) if osp.exists(osp.join(root, path)) else None
        if current != text:
            stale.append(path)
    return stale


def write_generated(root: str) -> List[str]:
    """Write every generated file; returns those whose text changed."""
    changed = []
    for path, text in generate(root).items():
        full = osp.join(root, path)
        current = _read(full) if osp.exists(full) else None
        if current != text:
            os.makedirs(osp.dirname(full), exist_ok=True)
            with open(full, 'w', encoding='utf-8') as f:
                f.write(text)
            changed.append(path)
    return changed
