"""One file digest (common.digest): contents and sidecars, never paths; regular files only."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.digest import file_digest, sidecar_files
from common.errors import HazardError, InputError


def _shapefile(folder: Path, dbf: bytes = b"attrs-1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "area.shp").write_bytes(b"geometry")
    (folder / "area.shx").write_bytes(b"index")
    (folder / "area.dbf").write_bytes(dbf)
    (folder / "area.prj").write_bytes(b"PROJCS")
    (folder / "other.dbf").write_bytes(b"not mine")
    return folder / "area.shp"


def test_editing_a_sidecar_changes_the_digest(tmp_path):
    shp = _shapefile(tmp_path)
    before = file_digest(shp)
    (tmp_path / "area.dbf").write_bytes(b"attrs-2")
    assert file_digest(shp) != before


def test_adding_a_sidecar_changes_the_digest(tmp_path):
    shp = _shapefile(tmp_path)
    before = file_digest(shp)
    (tmp_path / "area.cpg").write_bytes(b"UTF-8")
    assert file_digest(shp) != before


def test_digest_does_not_depend_on_the_folder_or_the_stem(tmp_path):
    a = _shapefile(tmp_path / "a")
    b = tmp_path / "b"
    b.mkdir()
    for p in a.parent.glob("area.*"):
        (b / p.name.replace("area", "zone")).write_bytes(p.read_bytes())
    assert file_digest(a) == file_digest(b / "zone.shp")


def test_sidecars_match_case_insensitively_and_only_their_own_stem(tmp_path):
    shp = _shapefile(tmp_path)
    (tmp_path / "area.dbf").rename(tmp_path / "area.DBF")
    names = [p.name for p in sidecar_files(shp)]
    assert names == ["area.DBF", "area.prj", "area.shx"]


def test_ascii_grid_takes_its_prj(tmp_path):
    asc = tmp_path / "dem.asc"
    asc.write_text("ncols 1\n")
    before = file_digest(asc)
    (tmp_path / "dem.prj").write_text("GEOGCS")
    assert file_digest(asc) != before


def test_plain_file_digest_is_its_content(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n")
    (tmp_path / "y.csv").write_text("a,b\n")
    assert file_digest(tmp_path / "x.csv") == file_digest(tmp_path / "y.csv")


@pytest.mark.parametrize("path, message", [
    ("/dev/zero", "not a regular file"),
    ("missing.tif", "file not found"),
    (".", "found a folder"),
])
def test_non_files_are_refused_in_one_line(tmp_path, path, message):
    p = Path(path) if path.startswith("/") else tmp_path / path
    with pytest.raises(HazardError, match=message) as err:
        file_digest(p, error=HazardError)
    assert isinstance(err.value, InputError)
    assert "\n" not in str(err.value) and str(p) in str(err.value)
