"""Fixtures shared by the whole suite: the repository root, the tool runner, tiny data sets and checkpoints.

Builders of data sets, checkpoints and runs live in the ``builders`` package (importable because
``pythonpath = tests``); this file only turns the shared ones into fixtures, so that one tiny copy serves every
test of a session. Tests take the repository root from the ``repo_root`` fixture.
"""
import gc
import importlib
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from builders import REPO_ROOT as REPO
from builders.datasets import make_all_datasets
from builders.fashion_mnist import make_fashion_mnist
from builders.vit_checkpoints import VIT_LAYOUTS, timm_vit, write_vit_layout
from mmengine.config import Config

TOOLS = REPO / 'tools'
CONFIG_ROOT = REPO / 'configs'


def _shipped_configs() -> list:
    """Every config under ``configs/`` but the ``_base_`` parts, as sorted paths relative to ``configs/``."""
    return sorted(str(path.relative_to(CONFIG_ROOT)) for path in CONFIG_ROOT.rglob('*.py')
                  if '_base_' not in path.relative_to(CONFIG_ROOT).parts)


def pytest_generate_tests(metafunc):
    """A test that takes a ``shipped_config`` argument runs once per shipped config (a path relative to
    ``configs/``, also the test id), so test modules need no repository path at collection time."""
    if 'shipped_config' in metafunc.fixturenames:
        configs = _shipped_configs()
        metafunc.parametrize('shipped_config', configs, ids=configs)


def _run_tool(script, *args, process: bool = False, expect_ok: bool = True, env=None, timeout: int = 600):
    """Run a tool under ``tools/`` (path relative to it, e.g. ``'benchmarks/classification/knn.py'``) as a user
    would, with ``args`` (anything, turned into strings).

    In-process (default): the script's ``main(argv)`` is called and its return value returned, so exceptions reach
    the test as they are. ``process=True``: a child process (``bash`` for ``.sh`` scripts) in the repository root;
    returns the ``CompletedProcess`` and, with ``expect_ok``, asserts that it succeeded, showing its output.
    """
    path = TOOLS / script
    argv = [str(arg) for arg in args]
    if not process:
        saved, sys.argv = sys.argv, [str(path), *argv]
        try:
            return runpy.run_path(str(path), run_name='tool_under_test')['main'](argv)
        finally:
            sys.argv = saved
    launcher = ['bash'] if path.suffix == '.sh' else [sys.executable]
    result = subprocess.run(launcher + [str(path), *argv], cwd=REPO, capture_output=True, text=True,
                            timeout=timeout, env=env)
    if expect_ok:
        assert result.returncode == 0, f'{script} {argv}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}'
    return result


@pytest.fixture(scope='session')
def repo_root() -> Path:
    """The repository root (configs, tools and docs are found under it)."""
    return REPO


@pytest.fixture(scope='session')
def shipped_configs() -> list:
    """The configs that ``shipped_config`` runs over, as one sorted list."""
    return _shipped_configs()


@pytest.fixture(scope='session', autouse=True)
def config_text_unformatted():
    """Every mmengine ``Config`` of the session keeps mmengine's own text layout (``format_python_code=False``).

    mmengine passes the text through yapf each time it logs a config, dumps it, hands it to a visualizer backend
    or stores it in a checkpoint: six times or more per Runner, and up to 0.7 s each on the long paths of pytest's
    temporary folders (about 150 s of the suite on 2 cores). The tests read configs, not their line breaks; the
    unformatted text is the same Python. Child processes (``run_tool(..., process=True)``, suites) format as usual.
    """
    init = Config.__init__

    def init_unformatted(self, *args, **kwargs):
        init(self, *args, **{**kwargs, 'format_python_code': False})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Config, '__init__', init_unformatted)
        yield


@pytest.fixture(autouse=True)
def garbage_collections_scan_one_test():
    """After each test: its garbage collected, then what survives (imported modules, session and module fixtures)
    frozen out of later collections (``gc.freeze``).

    mmengine's ``BaseDataset`` runs a full ``gc.collect()`` each time a data set is built (``_serialize_data``);
    in a pytest session that scans every object the session holds, about 0.2 s a build late in the session,
    thousands of builds. Frozen survivors are still freed by reference counting; only a cycle among them would
    outlive its test.
    """
    yield
    gc.collect()
    gc.freeze()


@pytest.fixture(scope='session')
def run_tool():
    """The one way tests run a tool: ``run_tool('benchmarks/classification/knn.py', CONFIG, CKPT, ...)``."""
    return _run_tool


@pytest.fixture
def model_zoo(monkeypatch):
    """The model-zoo tool package (``tools/analysis_tools/model_zoo``), imported as ``gen_model_zoo.py`` imports it:
    from the script's own folder, which Python puts first on ``sys.path`` when it runs a script."""
    monkeypatch.syspath_prepend(str(TOOLS / 'analysis_tools'))
    return importlib.import_module('model_zoo')


@pytest.fixture
def mz(model_zoo):
    """:func:`model_zoo` under the short name the model-zoo tests use."""
    return model_zoo


@pytest.fixture
def repo(tmp_path) -> Path:
    """A copy of the repository's model-zoo sources (configs, model index, generated docs, demo results) to edit and
    regenerate."""
    shutil.copytree(REPO / 'configs', tmp_path / 'configs', ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy(REPO / 'model-index.yml', tmp_path / 'model-index.yml')
    (tmp_path / 'docs' / 'en').mkdir(parents=True)
    for doc in ('model_zoo.md', 'get_started.md', 'demo_results.json'):
        if (REPO / 'docs/en' / doc).exists():
            shutil.copy(REPO / 'docs/en' / doc, tmp_path / 'docs/en' / doc)
    return tmp_path


@pytest.fixture(scope='session')
def tiny_datasets(tmp_path_factory) -> dict:
    """Every classification data set of ``builders.datasets`` in its official layout, a few images each."""
    return make_all_datasets(str(tmp_path_factory.mktemp('tiny_datasets')))


@pytest.fixture(scope='session')
def fmnist_tiny(tmp_path_factory) -> dict:
    """The Fashion-MNIST demo layout (ImageNet-style lists), one synthetic image per class and split."""
    return make_fashion_mnist(str(tmp_path_factory.mktemp('fmnist')), per_class=1, voc07=False)


@pytest.fixture(scope='session')
def fmnist_three(tmp_path_factory) -> dict:
    """The Fashion-MNIST demo layout with three synthetic images per class and split: enough for a held-out split
    of one image per class."""
    return make_fashion_mnist(str(tmp_path_factory.mktemp('fmnist3')), per_class=3, voc07=False)


@pytest.fixture(scope='session')
def vit_source():
    """One timm ViT with random weights (ViT-Tiny width, two blocks, 4-px patches at 32 px), eval mode."""
    return timm_vit()


@pytest.fixture(scope='session')
def vit_layouts(vit_source, tmp_path_factory) -> dict:
    """``{layout: path}``: ``vit_source`` written in every ViT checkpoint layout as its project's code writes it."""
    root = tmp_path_factory.mktemp('vit_layouts')
    return {layout: write_vit_layout(layout, vit_source, str(root)) for layout in VIT_LAYOUTS}
