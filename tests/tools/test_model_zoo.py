"""The model-zoo tool package (tools/analysis_tools/model_zoo): metafile validation, canonical metafile text, the
generated docs."""
import pytest
from builders.files import edit_yaml


# ----------------------------------------------------------------------------------------------- metafiles
def test_committed_metafiles_are_in_canonical_form(mz, repo_root):
    for metafile in mz.load_model_index(str(repo_root)):
        assert mz.dump_metafile(metafile) == (repo_root / metafile.path).read_text(), metafile.path


def test_full_scale_models_carry_no_results_of_ours_and_published_numbers_stay_apart(mz, repo_root):
    metafiles = mz.load_model_index(str(repo_root))
    models = {m['Name']: m for metafile in metafiles for m in metafile.models}
    published = {name: results for metafile in metafiles for name, results in metafile.published.items()}
    released = {name for name, model in models.items() if model['Weights'] == 'released'}
    assert released == {'dino_vit-small-p16_released', 'dino_vit-base-p16_released', 'mocov3_vit-small-p16_released',
                        'mocov3_vit-base-p16_released', 'mae_vit-base-p16_released', 'dinov2_vit-small-p14_released',
                        'dinov2_vit-base-p14_released'}
    assert set(published) == {'relative-loc_resnet50_8xb64-steplr-70e_in1k', 'npid_resnet50_8xb32-steplr-200e_in1k'} \
        | released
    baseline = models['resnet18_random-init']
    assert baseline['Config'] is None and baseline['Weights'] == 'random' and baseline['Results']
    for text in (repo_root / 'configs/selfsup/relative_loc/metafile.yml',
                 repo_root / 'configs/selfsup/npid/metafile.yml'):
        assert '65.52' not in text.read_text() and '76.75' not in text.read_text()


@pytest.mark.parametrize('change,message', [
    (lambda d: d['Models'][1]['Results'][0].update(Task='Linear Probe'), "unknown Task / Dataset 'Linear Probe'"),
    (lambda d: d['Models'][1]['Results'][0]['Metrics'].update(feature6=1.0), "unknown metric 'feature6'"),
    (lambda d: d['Models'][1]['Results'][0]['Metrics'].update(feature1='high'), "metric 'feature1' must be a number"),
    (lambda d: d['Models'][1]['Results'][0].update(Config='configs/nope.py'), 'Config configs/nope.py does not exist'),
    (lambda d: d['Models'][1]['Results'].append(dict(d['Models'][1]['Results'][0])), 'a second result'),
    (lambda d: d['Models'][1].update(Config=None), 'must say Weights: random'),
    (lambda d: d['Models'][0].update({'In Collection': 'RelLoc'}), "In Collection 'RelLoc'"),
    (lambda d: d['Models'][0].update(Name=d['Models'][1]['Name']), 'duplicate model name'),
    (lambda d: d['Models'][0].pop('Config'), 'missing Config'),
    (lambda d: d.pop('Collections'), 'Collections must be a non-empty list'),
])
def test_malformed_metafile_errors_name_the_file_and_the_key(mz, repo, change, message):
    path = repo / 'configs/selfsup/relative_loc/metafile.yml'
    edit_yaml(path, change)
    with pytest.raises(mz.ModelZooError) as error:
        mz.load_model_index(str(repo))
    assert str(error.value).startswith('configs/selfsup/relative_loc/metafile.yml')
    assert message in str(error.value)


def test_invalid_yaml_and_foreign_published_models_are_reported(mz, repo):
    published = repo / 'configs/selfsup/npid/published.yml'
    edit_yaml(published, lambda d: d['Models'][0].update(Name='npid_resnet50_other'))
    with pytest.raises(mz.ModelZooError, match=r"published.yml: Models\[0\]: Name 'npid_resnet50_other' is not a "):
        mz.load_model_index(str(repo))
    (repo / 'configs/selfsup/npid/metafile.yml').write_text('Models: [unclosed\n')
    with pytest.raises(mz.ModelZooError, match='npid/metafile.yml: not valid YAML'):
        mz.load_model_index(str(repo))


# ----------------------------------------------------------------------------------------------- generated docs
def test_tables_show_our_numbers_empty_rows_and_published_numbers_apart(mz, repo_root):
    outputs = mz.generate(str(repo_root))
    readme = outputs['configs/selfsup/relative_loc/README.md']
    block = readme[readme.index(mz.BEGIN_MARKER):readme.index(mz.END_MARKER)]
    ours, published = block.split('## Published results (not measured by mmssl)')
    linear = ours[ours.index('Fashion-MNIST multi-head linear evaluation'):]
    demo_row = next(line for line in linear.splitlines() if line.startswith('| [relative-loc_resnet18'))
    # The demo's avgpool head was trained jointly: its own column, the AvgPool one stays empty.
    assert '| 74.27 | 80.53 | 80.73 | 80.27 | 79.07 | – | 39.80 |' in demo_row  # means of 3 seeds
    assert 'resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py)' in demo_row
    assert '| resnet18_random-init (no pre-training) | 75.60 | 77.07 | 76.47 | 72.93 | 74.07 | – | 32.47 |' in ours
    full = '[relative-loc_resnet50_8xb64-steplr-70e_in1k](relative-loc_resnet50_8xb64-steplr-70e_in1k.py)'
    assert f'| {full} | – | – | – | – | – | – | – | – |' in ours  # ImageNet linear: the layout, no numbers
    assert '65.52' not in ours
    assert '| relative-loc_resnet50_8xb64-steplr-70e_in1k | – | – | – | 65.52 | – |' in published
    # The generated block is all that changed: the hand-written text around it is kept.
    assert readme.startswith('# Relative Location\n') and '## Patch sampling' in readme
    zoo = outputs['docs/en/model_zoo.md']
    assert '65.52' not in zoo and '(../../configs/selfsup/npid/npid_resnet50_8xb32-steplr-200e_in1k.py)' in zoo


def test_replace_block_needs_exactly_one_pair_of_markers(mz):
    block = f'{mz.BEGIN_MARKER}\nnew\n{mz.END_MARKER}'
    assert mz.replace_block(f'a\n{mz.BEGIN_MARKER}\nold\n{mz.END_MARKER}\nb', block, 'R.md') == f'a\n{block}\nb'
    with pytest.raises(mz.ModelZooError, match='R.md: expected exactly one'):
        mz.replace_block('no markers', block, 'R.md')
    with pytest.raises(mz.ModelZooError, match='end marker comes before'):
        mz.replace_block(f'{mz.END_MARKER}\n{mz.BEGIN_MARKER}', block, 'R.md')


def test_compare_published_puts_ours_beside_theirs(mz, repo):
    text = mz.compare_published(str(repo))
    assert 'relative-loc_resnet50_8xb64-steplr-70e_in1k (published:' in text
    line = next(line for line in text.splitlines() if line.strip().startswith('feature4_k96'))
    assert line.split()[1:] == ['–', '59.28']
    path = repo / 'configs/selfsup/relative_loc/metafile.yml'
    edit_yaml(path, lambda d: d['Models'][0].update(Results=[dict(
        Task='SVM', Dataset='VOC07', Metrics={'feature4': 64.0}, Config='configs/benchmarks/classification/voc07/'
        'resnet50_svm_voc07.py')]))
    line = next(line for line in mz.compare_published(str(repo)).splitlines() if line.strip().startswith('feature4 '))
    assert line.split()[1:] == ['64.00', '65.52']
