"""python-escpos's parsed printer profiles are kept in the data folder, not parsed at each start."""

from __future__ import annotations

import os
import subprocess
import sys

from kiosk.bootstrap import escpos_profiles_cache

IMPORT = "import escpos.capabilities, sys; sys.stdout.write(escpos.capabilities.pickle_dir)"


def test_escpos_writes_its_profiles_once_into_the_data_folder_and_reads_them_from_there(tmp_path, monkeypatch):
    monkeypatch.delenv("ESCPOS_CAPABILITIES_PICKLE_DIR", raising=False)
    folder = tmp_path / "data" / "cache" / "escpos"
    escpos_profiles_cache(folder)
    assert os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] == str(folder)
    first = subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True, check=True)
    (pickle,) = folder.glob("*.capabilities.pickle")  # made by the first start
    made = pickle.stat().st_mtime_ns
    second = subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True, check=True)
    assert first.stdout == second.stdout == str(folder)
    assert pickle.stat().st_mtime_ns == made  # the second start read it: no new parse, no new folder
