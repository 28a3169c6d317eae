"""Resume that always works and never mixes: kills during any run of a multi-run Adam experiment, config checks,
extending a finished run, damaged summaries, planted records and run-folder locks."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, default_sigint, make_splits, write_course_file

from paddle_mnist.engine import fit as engine
from paddle_mnist.engine.checkpoint import ResumeMismatch, load_state
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.records import RunInUse, run_lock

RUNS = ("adam-seed0", "adam-cosine-seed0")


def _cmd(runs, data, resume=False):
    code = ("import sys; from paddle_mnist.studies import run_experiment; "
            "run_experiment('mlp', seeds=(0,), runs_dir=sys.argv[1], results_dir=sys.argv[1] + '/res', "
            "models_dir=sys.argv[1] + '/models', overrides=dict(data_path=sys.argv[2], hidden=(32,), epochs=4, "
            "batch_size=8, device='cpu'), resume=len(sys.argv) > 3, progress=False, log=lambda *a: None)")
    return [sys.executable, "-c", code, str(runs), str(data)] + (["--resume"] if resume else [])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_course_file(tmp_path_factory.mktemp("d") / "d.json.gz", make_splits(n_train=240, n_valid=30, n_eval=30))


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    runs = tmp_path_factory.mktemp("ref")
    res = subprocess.run(_cmd(runs, data), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return runs


def _epochs_done(run_dir) -> int:
    m = run_dir / "metrics.csv"
    return len(m.read_text().strip().splitlines()) - 1 if m.is_file() and (run_dir / engine.CHECKPOINT).is_file() else 0


def _same_runs(a, b):
    ra = json.loads((a / "res" / "mlp.json").read_text())["runs"]
    rb = json.loads((b / "res" / "mlp.json").read_text())["runs"]
    for x, y in zip(ra, rb, strict=True):
        assert x["status"] == y["status"] == "ok"
        assert x["history"]["valid_loss"] == y["history"]["valid_loss"] and x["iterations"] == y["iterations"]
        assert x["test_acc"] == y["test_acc"]
    for name in RUNS:
        wa = load_state(a / "mlp" / name / "best.pdparams")
        wb = load_state(b / "mlp" / name / "best.pdparams")
        assert all(np.array_equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
@pytest.mark.parametrize("victim", RUNS)
def test_killed_multi_run_adam_experiment_resumes_bit_identically(victim, sig, data, reference, tmp_path):
    """Kill while run ``victim`` trains (the second run builds its model second: other global names), resume in a
    fresh process: every run's numbers and weights equal the uninterrupted experiment's."""
    run_dir = tmp_path / "mlp" / victim
    proc = subprocess.Popen(_cmd(tmp_path, data), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=default_sigint)
    deadline = time.time() + 240
    while _epochs_done(run_dir) < 2:
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert not (run_dir / "summary.json").is_file(), "killed before the run's end"
    done = subprocess.run(_cmd(tmp_path, data, resume=True), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    _same_runs(reference, tmp_path)


def _cfg(data, **kw):
    base = dict(hidden=(16,), epochs=2, batch_size=10, data_path=str(data), device="cpu", histograms=False)
    return TrainConfig(**{**base, **kw})


@pytest.fixture
def tiny(tmp_path):
    return write_course_file(tmp_path / "t.json.gz", make_splits())


def test_checkpoint_records_config_and_structured_optimizer_keys(tiny, tmp_path):
    engine.fit(_cfg(tiny), tmp_path / "r", progress=False)
    state = load_state(tmp_path / "r" / engine.CHECKPOINT)
    assert state["config"] == _cfg(tiny).to_dict() and state["optimizer_keys"] == "structured"
    keys = [k for k in state["optimizer"] if k != "LR_Scheduler"]
    assert keys and all(k.startswith(("fc1.", "fc2.")) for k in keys), keys


@pytest.mark.parametrize("change,fragment", [
    (dict(lr=0.5), "lr 0.001 -> 0.5"),
    (dict(lr=0.5, batch_size=5), "batch_size 10 -> 5, lr 0.001 -> 0.5"),
    (dict(epochs=2), "epochs 3 -> 2"),
    (dict(epochs=4, lr_schedule="cosine"), "lr_schedule 'constant' -> 'cosine'"),
])
def test_resume_with_another_config_names_the_differing_keys(change, fragment, tiny, tmp_path):
    import dataclasses

    cfg = _cfg(tiny, epochs=3, max_steps=4)
    engine.fit(cfg, tmp_path / "r", progress=False)  # stopped by its step budget after one epoch
    before = (tmp_path / "r" / engine.CHECKPOINT).read_bytes()
    with pytest.raises(ResumeMismatch, match="differs in") as err:
        engine.fit(dataclasses.replace(cfg, **change), tmp_path / "r", resume=True, progress=False)
    assert fragment in str(err.value) and "\n" not in str(err.value)
    assert (tmp_path / "r" / engine.CHECKPOINT).read_bytes() == before


def test_finished_run_resumed_with_more_epochs_trains_them_and_says_so(tiny, tmp_path):
    first = engine.fit(_cfg(tiny, epochs=2), tmp_path / "r", progress=False)
    more = engine.fit(_cfg(tiny, epochs=4), tmp_path / "r", resume=True, progress=False)
    assert more["history"]["epoch"] == [1, 2, 3, 4] and more["config"]["epochs"] == 4
    assert more["epochs_extended_from"] == 2
    assert more["history"]["valid_loss"][:2] == first["history"]["valid_loss"]
    straight = engine.fit(_cfg(tiny, epochs=4), tmp_path / "s", progress=False)
    assert straight["history"]["valid_loss"] == more["history"]["valid_loss"]  # constant lr: same numbers
    again = engine.fit(_cfg(tiny, epochs=4), tmp_path / "r", resume=True, progress=False)
    assert again["history"] == more["history"]


@pytest.mark.parametrize("damage", ["truncated", "empty", "a list", "status failed"])
def test_damaged_summary_is_rebuilt_from_the_checkpoint(damage, tiny, tmp_path):
    good = engine.fit(_cfg(tiny), tmp_path / "r", progress=False)
    summary = tmp_path / "r" / "summary.json"
    text = summary.read_text()
    summary.write_text({"truncated": text[:50], "empty": "", "a list": "[1, 2]",
                        "status failed": text.replace('"status": "ok"', '"status": "failed"')}[damage])
    again = engine.fit(_cfg(tiny), tmp_path / "r", resume=True, progress=False)
    assert again["status"] == "ok" and again["test_acc"] == good["test_acc"]
    assert again["history"] == good["history"]
    assert json.loads(summary.read_text())["test_acc"] == good["test_acc"]


def test_planted_summary_cannot_name_another_file(tiny, tmp_path):
    from paddle_mnist.engine import jobs, runner

    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    cfg = _cfg(tiny)
    jobs.run_configs("t", [("a", "v", cfg)], runs_dir=tmp_path / "runs", progress=False, log=lambda *_: None)
    summary = tmp_path / "runs" / "t" / "a" / "summary.json"
    rec = json.loads(summary.read_text())
    rec["checkpoint"] = str(secret)
    summary.write_text(json.dumps(rec))
    runs = jobs.run_configs("t", [("a", "v", cfg)], runs_dir=tmp_path / "runs", resume=True, progress=False,
                            log=lambda *_: None)
    assert runs[0]["checkpoint"] == str(tmp_path / "runs" / "t" / "a" / "best.pdparams")
    runs[0]["checkpoint"] = str(secret)  # even a record naming another file copies nothing

    class Exp:
        name = "t"
    assert runner._copy_headline(Exp, [dict(runs[0], variant="v")], tmp_path / "models", tmp_path / "runs") is None
    assert not (tmp_path / "models").exists()


def test_a_second_command_on_a_held_run_fails_clearly(tiny, tmp_path):
    from paddle_mnist.engine import jobs

    run_dir = tmp_path / "runs" / "t" / "a"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from paddle_mnist.records import "
                               "run_lock\nwith run_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)",
                               str(run_dir)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunInUse, match=f"in use by another command \\(pid {holder.pid}\\)"):
            jobs.run_configs("t", [("a", "v", _cfg(tiny))], runs_dir=tmp_path / "runs", progress=False,
                             log=lambda *_: None)
        with pytest.raises(RunInUse):
            engine.fit(_cfg(tiny), run_dir, progress=False)
        assert sorted(p.name for p in run_dir.iterdir()) == [".lock"], "nothing touched"
    finally:
        holder.kill()
        holder.wait()
    with run_lock(run_dir):  # free again once the holder is gone
        pass


def test_failed_rerun_keeps_the_earlier_good_record(tiny, tmp_path):
    from paddle_mnist.engine.runner import _keep_better

    path = tmp_path / "x.json"
    good = {"name": "a", "config": {"lr": 1}, "status": "ok", "variant": "v", "best_valid_acc": 0.9, "test_acc": 0.8,
            "history": {"epoch": [1]}}
    path.write_text(json.dumps({"experiment": "x", "runs": [good]}))
    record = {"experiment": "x", "runs": [{"name": "a", "config": {"lr": 1}, "status": "failed"}]}
    _keep_better(path, record, log=lambda *_: None)
    assert record["runs"][0] == good


def _counted(job):
    with open(job["counter"], "a") as fh:
        fh.write("x")
    return {"name": "n", "status": job.get("status", "ok"), "value": job["v"]}


@pytest.mark.parametrize("case,runs_again", [("same settings", False), ("other settings", True),
                                             ("without --resume", True), ("failed before", True),
                                             ("damaged record", True)])
def test_numpy_style_runs_keep_their_record_and_resume(case, runs_again, tmp_path):
    """A study's own runs (numpy nets, toy paths) keep a per-run record; --resume reuses it when settings match."""
    from paddle_mnist.engine.jobs import _own_run

    job = {"counter": str(tmp_path / "count"), "v": 1, "status": "failed" if case == "failed before" else "ok"}
    first = _own_run((_counted, job, str(tmp_path / "run"), False))
    if case == "damaged record":
        (tmp_path / "run" / "record.json").write_text("[")
    again = dict(job, v=2) if case == "other settings" else job
    second = _own_run((_counted, again, str(tmp_path / "run"), case != "without --resume"))
    assert (tmp_path / "count").read_text() == ("xx" if runs_again else "x")
    assert second["value"] == again["v"] and (case == "other settings" or second == first)


def test_older_checkpoint_with_global_optimizer_names_still_resumes(tiny, tmp_path):
    """A checkpoint written before structured keys (``linear_7.w_0_moment1_0``) maps by parameter order."""
    from paddle_mnist.engine.checkpoint import save_state

    straight = engine.fit(_cfg(tiny, epochs=3), tmp_path / "s", progress=False)
    engine.fit(_cfg(tiny, epochs=3, max_steps=4), tmp_path / "r", progress=False)  # one epoch
    path = tmp_path / "r" / engine.CHECKPOINT
    state = load_state(path)
    old = {"fc1.weight": "linear_7.w_0", "fc1.bias": "linear_7.b_0", "fc2.weight": "linear_8.w_0",
           "fc2.bias": "linear_8.b_0"}
    state["optimizer"] = {next((old[n] + k[len(n):] for n in old if k.startswith(n + "_")), k): v
                          for k, v in state["optimizer"].items()}
    del state["optimizer_keys"], state["config"]
    save_state(state, path)
    (tmp_path / "r" / "config.json").unlink()
    (tmp_path / "r" / "summary.json").unlink()
    again = engine.fit(_cfg(tiny, epochs=3), tmp_path / "r", resume=True, progress=False)
    assert again["history"]["valid_loss"] == straight["history"]["valid_loss"]
