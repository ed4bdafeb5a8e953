"""tools/demo.sh: it parses, and its dry run (``DEMO_DRY_RUN=1``) prints stages that call tools and configs of this
repository, in order, with the options those tools declare."""
import os
import shlex
import subprocess
import sys

import pytest
import yaml

DEMO = 'tools/demo.sh'


@pytest.fixture(scope='module')
def dry_run(repo_root, tmp_path_factory):
    """The commands the demo prints in a dry run (into an empty work dir, so no stage is skipped), as argv lists
    with the interpreter dropped."""
    demo_dir = tmp_path_factory.mktemp('demo')
    env = dict(os.environ, DEMO_DRY_RUN='1', DEMO_DIR=str(demo_dir), PYTHON='python')
    result = subprocess.run(['bash', DEMO], cwd=repo_root, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    commands = [shlex.split(line[2:]) for line in result.stdout.splitlines() if line.startswith('+ ')]
    assert all(argv[0] == 'python' for argv in commands), commands
    return [argv[1:] for argv in commands], result.stdout


def _option(argv, name):
    """The values after option ``name`` up to the next option."""
    values = argv[argv.index(name) + 1:]
    return values[:next((i for i, value in enumerate(values) if value.startswith('--')), len(values))]


def test_demo_parses(repo_root):
    subprocess.run(['bash', '-n', DEMO], cwd=repo_root, check=True)


def test_dry_run_stages_call_existing_tools_and_configs(dry_run, repo_root):
    commands, out = dry_run
    tools = [argv[0] for argv in commands]
    assert tools == ['tools/dataset_converters/prepare_fashion_mnist.py'] + ['tools/train.py'] * 3 + [
        'tools/benchmarks/watch.py', 'tools/analysis_tools/compare.py']
    for argv in commands:
        paths = [arg for arg in argv if arg.startswith(('tools/', 'configs/'))]
        assert all((repo_root / path).is_file() for path in paths), [p for p in paths if not (repo_root / p).is_file()]
    trains, watch = commands[1:4], commands[4]
    assert [_option(argv, '--cfg-options') for argv in trains] == [[f'randomness.seed={s}'] for s in (0, 1, 2)]
    assert _option(watch, '--baseline-seeds') == ['0', '1', '2']
    assert _option(watch, '--config') == [trains[0][1]]
    assert watch[1:4] == [argv[argv.index('--work-dir') + 1] for argv in trains]
    suite = yaml.safe_load((repo_root / _option(watch, '--suite')[0]).read_text())
    assert set(_option(watch, '--benchmarks')) <= set(suite)
    assert all((repo_root / path).is_file() for path in suite.values())
    assert 'Demo finished in' in out


@pytest.mark.slow  # starts each tool once (--help): a few seconds of imports per tool
def test_dry_run_tool_options_exist(dry_run, repo_root):
    """Every option the demo passes is one its tool declares (read from the tool's --help)."""
    commands, _ = dry_run
    for tool in sorted({argv[0] for argv in commands}):
        options = {arg.split('=')[0] for argv in commands if argv[0] == tool for arg in argv if arg.startswith('--')}
        help_text = subprocess.run([sys.executable, tool, '--help'], cwd=repo_root, capture_output=True, text=True,
                                   timeout=300).stdout
        assert all(option in help_text for option in options), (tool, options, help_text[-2000:])


def test_demo_pretraining_checkpoints_every_step_the_script_expects(dry_run, repo_root):
    """The pre-training config saves the initial weights and a checkpoint at its last iteration (the one the script
    looks for to skip a finished run), and reads an endless, seeded stream of batches (no end-of-loader warning)."""
    from mmengine.config import Config
    commands, _ = dry_run
    config = Config.fromfile(str(repo_root / commands[1][1]))
    checkpoint = config.default_hooks.checkpoint
    assert checkpoint.save_initial and checkpoint.max_keep_ckpts == -1
    assert config.train_cfg.max_iters % checkpoint.interval == 0
    script = (repo_root / DEMO).read_text()
    assert f'final_iter={config.train_cfg.max_iters} ' in script
    assert config.train_dataloader.sampler == dict(type='InfiniteSampler', shuffle=True)
