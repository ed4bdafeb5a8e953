"""The lowshot / svm benchmarks' numeric options are checked when parsed, naming the option and the range."""
import re

import pytest

from mmssl.benchmarks import cli

SVM_CONFIG = 'configs/benchmarks/classification/voc07/resnet50_svm_voc07.py'


@pytest.mark.parametrize('benchmark, args, message', [
    ('lowshot', ['--num-samples', '0'], "argument --num-samples: expected an integer >= 1, got '0'"),
    ('lowshot', ['--num-samples', '-2'], "argument --num-samples: expected an integer >= 1, got '-2'"),
    ('lowshot', ['--shots', '1', '0', '4'], "argument --shots: expected an integer >= 1, got '0'"),
    ('lowshot', ['--seed', '-1'], "argument --seed: expected an integer >= 0, got '-1'"),
    ('svm', ['--costs', '1,0'], r'argument --costs: costs must be finite and positive, got \(1.0, 0.0\)'),
    ('svm', ['--n-jobs', '0'], "argument --n-jobs: expected a number of processes >= 1, or -1 for all cores"),
    ('svm', ['--max-memory', '0'], "argument --max-memory: max_memory must be positive, got '0'"),
])
def test_out_of_range_options_are_refused_when_parsed(repo_root, capsys, benchmark, args, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(benchmark, [str(repo_root / SVM_CONFIG), 'none', *args])
    assert exit_info.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_bad_lowshot_shots_in_the_config_is_refused_before_extraction(tmp_path, repo_root):
    with pytest.raises(ValueError, match=rf'{repo_root / SVM_CONFIG}: lowshot_shots must be a non-empty list of '
                       r'integers >= 1, got \[0, 2\]'):
        cli.main('lowshot', [str(repo_root / SVM_CONFIG), 'none', '--work-dir', str(tmp_path / 'work'),
                             '--cfg-options', 'lowshot_shots=[0,2]'])
    assert not (tmp_path / 'work').exists()
