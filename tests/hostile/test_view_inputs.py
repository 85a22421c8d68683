"""Hostile inputs to the views (`twin replay`, `twin plot`, `twin compare`).

Each case ends in one line on stderr naming the file and what is wrong, exit code
2, and no output file (half-written or otherwise) left behind.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "viz"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from viz_synthetic import make_run  # noqa: E402

from twin.cli import main  # noqa: E402


@pytest.fixture
def run_dir(tmp_path):
    return make_run(tmp_path / "run")


def _fails(capsys, argv, *needles):
    """Run the CLI; assert exit 2 and one stderr line holding every needle."""
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err
    return err


def _no_outputs(folder: Path, *names: str) -> None:
    left = [p.name for p in folder.iterdir() if p.name in names or p.name.startswith(".")]
    assert not left, left


def _truncate(p: Path, keep: int = 40) -> None:
    p.write_bytes(p.read_bytes()[:keep])


# ------------------------------------------------------------------ damaged run folders
def test_replay_truncated_events_parquet(run_dir, tmp_path, capsys):
    _truncate(run_dir / "events.parquet")
    _fails(capsys, ["replay", run_dir, "--png", tmp_path / "a.png"], "events.parquet",
           "not a readable Parquet")
    _no_outputs(tmp_path, "a.png")


def test_plot_truncated_curves_parquet(run_dir, tmp_path, capsys):
    _truncate(run_dir / "curves.parquet", 100)
    _fails(capsys, ["plot", run_dir, "--out", tmp_path / "p"], "curves.parquet", "Parquet")
    assert not (tmp_path / "p").exists() or not any((tmp_path / "p").iterdir())


def test_compare_truncated_metrics_parquet(run_dir, tmp_path, capsys):
    other = make_run(tmp_path / "other")
    _truncate(other / "metrics.parquet")
    _fails(capsys, ["compare", run_dir, other, "--out", tmp_path / "cmp"], "metrics.parquet")
    assert not (tmp_path / "cmp" / "metrics.csv").exists()


def test_replay_garbage_replay_npz(run_dir, tmp_path, capsys):
    (run_dir / "replay.npz").write_bytes(os.urandom(4096))
    _fails(capsys, ["replay", run_dir, "--html", tmp_path / "a.html"], "replay.npz",
           "not a readable replay bundle")
    _no_outputs(tmp_path, "a.html")


def test_replay_truncated_replay_npz(run_dir, tmp_path, capsys):
    _truncate(run_dir / "replay.npz", 2000)
    _fails(capsys, ["replay", run_dir, "--png", tmp_path / "a.png"], "replay.npz")
    _no_outputs(tmp_path, "a.png")


def test_replay_npz_missing_key(run_dir, tmp_path, capsys):
    with np.load(run_dir / "replay.npz") as z:
        a = {k: z[k] for k in z.files if k != "line_xy"}
    np.savez(run_dir / "replay.npz", **a)
    _fails(capsys, ["replay", run_dir, "--png", tmp_path / "a.png"], "replay.npz",
           "'line_xy' is missing")


def test_replay_npz_inconsistent_shapes(run_dir, tmp_path, capsys):
    with np.load(run_dir / "replay.npz") as z:
        a = {k: z[k] for k in z.files}
    a["line_offsets"] = a["line_offsets"][:-2]
    np.savez(run_dir / "replay.npz", **a)
    _fails(capsys, ["replay", run_dir, "--png", tmp_path / "a.png"], "line_offsets")


def test_replay_npz_pickled_object_is_refused(run_dir, tmp_path, capsys):
    with np.load(run_dir / "replay.npz") as z:
        a = {k: z[k] for k in z.files}
    a["ids"] = np.array([object()] * len(a["ids"]), dtype=object)
    np.savez(run_dir / "replay.npz", **a)
    _fails(capsys, ["replay", run_dir, "--png", tmp_path / "a.png"], "replay.npz")


def test_plot_empty_summary_json(run_dir, tmp_path, capsys):
    (run_dir / "summary.json").write_text("")
    _fails(capsys, ["plot", run_dir, "--out", tmp_path / "p"], "summary.json", "is empty")


def test_plot_summary_json_not_an_object(run_dir, tmp_path, capsys):
    (run_dir / "summary.json").write_text("[1, 2]")
    _fails(capsys, ["plot", run_dir, "--out", tmp_path / "p"], "summary.json", "object")


def test_compare_curves_missing_columns(run_dir, tmp_path, capsys):
    other = make_run(tmp_path / "other")
    pd.read_parquet(other / "curves.parquet").drop(columns=["served_fraction"]).to_parquet(
        other / "curves.parquet")
    _fails(capsys, ["compare", run_dir, other, "--out", tmp_path / "cmp"], "curves.parquet",
           "served_fraction")


def test_replay_events_with_nan_times(run_dir, tmp_path, capsys):
    ev = pd.read_parquet(run_dir / "events.parquet")
    ev.loc[0, "time_h"] = np.nan
    ev.to_parquet(run_dir / "events.parquet")
    _fails(capsys, ["replay", run_dir, "--png", tmp_path / "a.png"], "events.parquet",
           "time_h")


def test_plot_empty_curves_table(run_dir, tmp_path, capsys):
    pd.read_parquet(run_dir / "curves.parquet").iloc[:0].to_parquet(run_dir / "curves.parquet")
    _fails(capsys, ["plot", run_dir, "--out", tmp_path / "p"], "curves.parquet", "no rows")


def test_replay_events_parquet_is_a_directory(run_dir, tmp_path, capsys):
    (run_dir / "events.parquet").unlink()
    (run_dir / "events.parquet").mkdir()
    _fails(capsys, ["replay", run_dir, "--png", tmp_path / "a.png"], "events.parquet")


# ------------------------------------------------------------------ times
@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "-1", "1e9"])
def test_replay_time_not_a_usable_number(run_dir, tmp_path, capsys, bad):
    _fails(capsys, ["replay", run_dir, "--png", tmp_path / "a.png", f"--time={bad}"], "--time")
    _no_outputs(tmp_path, "a.png")


def test_plot_time_nan(run_dir, tmp_path, capsys):
    _fails(capsys, ["plot", run_dir, "--out", tmp_path / "p", "--time", "nan"], "--time")


# ------------------------------------------------------------------ outputs
def test_replay_does_not_overwrite_without_flag(run_dir, tmp_path, capsys):
    out = tmp_path / "a.png"
    out.write_bytes(b"keep me")
    _fails(capsys, ["replay", run_dir, "--png", out, "--size", "160x120"], "a.png",
           "--overwrite")
    assert out.read_bytes() == b"keep me"
    assert main(["replay", str(run_dir), "--png", str(out), "--size", "160x120",
                 "--overwrite"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_replay_files_get_the_users_permissions(run_dir, tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["replay", str(run_dir), "--png", str(tmp_path / "a.png"),
                     "--html", str(tmp_path / "a.html"), "--size", "160x120",
                     "--frames", "4"]) == 0
    finally:
        os.umask(old)
    for name in ("a.png", "a.html"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


def test_compare_mp4_does_not_overwrite_without_flag(run_dir, tmp_path, capsys):
    other = make_run(tmp_path / "other")
    mp4 = tmp_path / "side.mp4"
    mp4.write_bytes(b"old")
    _fails(capsys, ["compare", run_dir, other, "--out", tmp_path / "cmp", "--mp4", mp4],
           "side.mp4", "--overwrite")
    assert mp4.read_bytes() == b"old"


def test_replay_same_file_twice(run_dir, tmp_path, capsys):
    out = tmp_path / "a.png"
    _fails(capsys, ["replay", run_dir, "--png", out, "--poster", out], "same file")


def test_offscreen_render_prints_no_x_server_warning(run_dir, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "VTK_DEFAULT_OPENGL_WINDOW")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    r = subprocess.run([sys.executable, "-m", "twin.cli", "replay", str(run_dir), "--png",
                        str(tmp_path / "a.png"), "--size", "160x120"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "X server" not in r.stderr and "WARN" not in r.stderr, r.stderr
    assert (tmp_path / "a.png").stat().st_size > 1000


@pytest.mark.skipif(shutil.which("ffmpeg") is None and not __import__("importlib").util
                    .find_spec("imageio_ffmpeg"), reason="no ffmpeg")
def test_replay_odd_mp4_size_leaves_nothing(run_dir, tmp_path, capsys):
    _fails(capsys, ["replay", run_dir, "--mp4", tmp_path / "a.mp4", "--size", "321x240"],
           "even")
    _no_outputs(tmp_path, "a.mp4")


def test_replay_gif_too_large_for_memory(run_dir, tmp_path, capsys):
    _fails(capsys, ["replay", run_dir, "--gif", tmp_path / "a.gif", "--frames", "5000",
                    "--size", "7680x4320"], "GB of memory", "--frames")
    _no_outputs(tmp_path, "a.gif")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """A real run of the tiny city (it has population blocks and service arrays)."""
    from fixtures import tiny_city

    from twin.run import prepare, run_monte_carlo, write_run
    from twin.scenario import ScenarioSpec

    spec = ScenarioSpec.model_validate({
        "name": "tiny", "city": {"builtin": {}}, "horizon_h": 12, "realizations": 1,
        "hazards": [{"type": "damage_map", "events": [
            {"time_h": 1, "assets": ["SUB"], "damage_state": "extensive"}]}]})
    prep = prepare(spec, net=tiny_city(), use_cache=False)
    out = tmp_path_factory.mktemp("real") / "run"
    write_run(out, prep, run_monte_carlo(prep))
    return out


@pytest.mark.parametrize("key, value", [
    ("svc__adj_node", lambda v: v + 10_000),  # indices past the components
    ("svc__adj_indptr", lambda v: v[:-1]),  # one short
    ("svc__demand", lambda v: -v - 1.0),  # negative demand
    ("block_nodes", lambda v: v[:, :2]),  # a network missing
])
def test_replay_npz_with_broken_service_arrays(real_run, tmp_path, capsys, key, value):
    run = tmp_path / "run"
    shutil.copytree(real_run, run)
    with np.load(run / "replay.npz") as z:
        a = {k: z[k] for k in z.files}
    a[key] = value(a[key])
    np.savez(run / "replay.npz", **a)
    _fails(capsys, ["replay", run, "--png", tmp_path / "a.png"], "replay.npz", key)
    _no_outputs(tmp_path, "a.png")
