"""The watcher: each complete checkpoint benchmarked once and in order while a (fake) training writes them, none
half-read; a kill and restart repeats nothing; vanished checkpoints, two trainings in one dir and idle time are
reported naming the files. The benchmarks here are a stand-in that records its calls (the real kNN runs in
test_watch_e2e.py)."""
import hashlib
import json
import threading

import pytest
from builders.runs import hold_work_dir_lock
from builders.watch_runs import StandIn, checkpoint_bytes, write_checkpoint

from mmssl.benchmarks.watch import IdleTimeoutError, watch
from mmssl.benchmarks.watch.checkpoints import final_step
from mmssl.benchmarks.watch.watcher import CheckpointVanishedWarning
from mmssl.utils.errors import InputError
from mmssl.utils.work_dir_lock import WorkDirLockedError


def sha(path):
    """The sha256 of a finished checkpoint file: what a whole read of it hashes to."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_checkpoints_written_slowly_while_watched_are_each_benchmarked_once_whole(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'

    def train():  # in place and in pauses longer than a poll: the stable-size rule alone would read it half
        for step in (0, 2, 4):
            write_checkpoint(work, step, chunks=4, pause=0.15)

    stand_in = StandIn()
    training = threading.Thread(target=train)
    training.start()
    try:
        watch([str(work)], str(out), ['knn'], stand_in, 'iter', 4, poll=0.05, idle_timeout=30)
    finally:
        training.join()
    assert stand_in.steps() == ['iter_0.pth', 'iter_2.pth', 'iter_4.pth']
    assert [call[2] for call in stand_in.calls] == [sha(work / f'iter_{step}.pth') for step in (0, 2, 4)]  # whole
    step = json.loads((out / 'iter_2' / 'watch.json').read_text())
    assert step['checkpoint']['sha256'] == sha(work / 'iter_2.pth')
    assert step['records'] == {'knn': 'knn/result_knn.json'}


def test_a_checkpoint_that_stops_growing_but_does_not_load_is_read_only_once_complete(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    data = checkpoint_bytes(2)
    work.mkdir()
    (work / 'iter_2.pth').write_bytes(data[:len(data) // 2])  # a writer stalled for longer than two polls
    polls = []

    def sleep(_):
        polls.append(1)
        if len(polls) == 3:
            write_checkpoint(work, 2)

    stand_in = StandIn()
    watch([str(work)], str(out), ['knn'], stand_in, 'iter', 2, poll=0.01, idle_timeout=5, sleep=sleep)
    assert len(polls) == 3 and [call[2] for call in stand_in.calls] == [sha(work / 'iter_2.pth')]


def test_a_killed_watch_resumes_without_repeating_a_step(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    for step in (0, 2, 4):
        write_checkpoint(work, step)
    killed = StandIn(fail_at=4)  # knn + probe of iter_0, knn of iter_2, then killed during probe of iter_2
    with pytest.raises(KeyboardInterrupt):
        watch([str(work)], str(out), ['knn', 'probe'], killed, 'iter', 4, poll=0.01, idle_timeout=5)
    assert not (out / 'iter_2' / 'watch.json').exists()
    again = StandIn()
    watch([str(work)], str(out), ['knn', 'probe'], again, 'iter', 4, poll=0.01, idle_timeout=5)
    assert again.steps('knn') == ['iter_4.pth']  # iter_2's kNN record is of the same file: kept
    assert again.steps('probe') == ['iter_2.pth', 'iter_4.pth']
    finished = StandIn()
    watch([str(work)], str(out), ['knn', 'probe'], finished, 'iter', 4, poll=0.01, idle_timeout=5)
    assert finished.calls == []


def test_a_replaced_checkpoint_of_a_finished_step_is_refused(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    write_checkpoint(work, 0)
    watch([str(work)], str(out), ['knn'], StandIn(), 'iter', 0, poll=0.01, idle_timeout=5)
    write_checkpoint(work, 0, seed=1)
    with pytest.raises(InputError, match=r'iter_0.pth changed since it was benchmarked into .*iter_0'):
        watch([str(work)], str(out), ['knn'], StandIn(), 'iter', 0, poll=0.01, idle_timeout=5)


def test_a_checkpoint_that_vanishes_is_named_and_left_out(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    write_checkpoint(work, 0)
    write_checkpoint(work, 2, last_checkpoint=False)  # the last one, not named: needs two polls
    polls = []

    def sleep(_):
        polls.append(1)
        if len(polls) == 1:
            (work / 'iter_2.pth').unlink()
            write_checkpoint(work, 4)

    stand_in = StandIn()
    with pytest.warns(CheckpointVanishedWarning, match=f'checkpoint {work / "iter_2.pth"}: it disappeared'):
        watch([str(work)], str(out), ['knn'], stand_in, 'iter', 4, poll=0.01, idle_timeout=5, sleep=sleep)
    assert stand_in.steps() == ['iter_0.pth', 'iter_4.pth']
    assert not (out / 'iter_2').exists()


def test_checkpoints_of_two_trainings_in_one_dir_are_refused_naming_both(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    write_checkpoint(work, 0, neck='NonLinearNeck')
    write_checkpoint(work, 2, neck='LinearNeck')
    with pytest.raises(InputError) as refused:
        watch([str(work)], str(out), ['knn'], StandIn(), 'iter', 2, poll=0.01, idle_timeout=5)
    message = str(refused.value)
    assert f'{work / "iter_2.pth"} and {work / "iter_0.pth"} are checkpoints of two different trainings' in message
    assert 'model.neck' in message


def test_no_new_checkpoint_for_the_idle_timeout_fails_naming_what_is_awaited(tmp_path):
    work = tmp_path / 'work'
    write_checkpoint(work, 0)
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(IdleTimeoutError) as timed_out:
        watch([str(work)], str(tmp_path / 'out'), ['knn'], StandIn(), 'iter', 4, poll=10, idle_timeout=60,
              clock=lambda: now[0], sleep=sleep)
    assert f'{work} (last benchmarked: iter_0); waiting for iter_4' in str(timed_out.value)


def test_bad_inputs_are_refused_before_any_work(tmp_path):
    (tmp_path / 'a' / 'x').mkdir(parents=True)
    (tmp_path / 'b' / 'x').mkdir(parents=True)
    with pytest.raises(InputError, match='share the folder name'):
        watch([str(tmp_path / 'a' / 'x'), str(tmp_path / 'b' / 'x')], str(tmp_path / 'out'), ['knn'], StandIn(),
              'iter', 2)
    config = tmp_path / 'pre.py'
    config.write_text("train_cfg = dict(type='IterBasedTrainLoop')\n")
    with pytest.raises(InputError, match=f'{config}: train_cfg has neither max_iters nor max_epochs'):
        final_step(str(config))
    config.write_text("train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3)\n")
    assert final_step(str(config)) == ('epoch', 3)
    write_checkpoint(tmp_path / 'mixed', 0)
    write_checkpoint(tmp_path / 'mixed', 1, unit='epoch')
    with pytest.raises(InputError, match='holds checkpoints by iteration and by epoch'):
        watch([str(tmp_path / 'mixed')], str(tmp_path / 'out2'), ['knn'], StandIn(), 'iter', 2)


def test_checkpoints_by_epoch_are_watched_by_epoch(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    for epoch in (0, 1):
        write_checkpoint(work, epoch, unit='epoch')
    stand_in = StandIn()
    watch([str(work)], str(out), ['knn'], stand_in, 'epoch', 1, poll=0.01, idle_timeout=5)
    assert stand_in.steps() == ['epoch_0.pth', 'epoch_1.pth']
    assert json.loads((out / 'epoch_1' / 'watch.json').read_text())['unit'] == 'epoch'


def test_the_watch_holds_the_lock_of_its_out_dir(tmp_path):
    out = tmp_path / 'out'
    with hold_work_dir_lock(out):
        with pytest.raises(WorkDirLockedError, match=f'work dir {out} is in use by another run: .*HOLDER-MARK'):
            watch([str(tmp_path / 'work')], str(out), ['knn'], StandIn(), 'iter', 2, poll=0.01, idle_timeout=5)
