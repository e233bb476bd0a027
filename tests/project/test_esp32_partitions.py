"""ESP32 boards: the app image must fit its app partition, not the whole flash.

ESP-IDF's default partition table gives the app 1 MB at 0x10000 whatever
the flash size, so a 2.3 MB model on a 4 MB board needs a table of its own.
ESP32 projects cannot be built here (no Xtensa toolchain): these tests stop
at the fit check and the generated files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.errors import BoardError
from tinycompress.project.boards import get_board
from tinycompress.project.export import export_project
from tinycompress.project.fit import DEFAULT_TABLE, GENERATED_TABLE, check_fit
from tinycompress.project.model import ModelSources
from tinycompress.project.project import load_project

pytestmark = pytest.mark.host

MB = 1 << 20


@pytest.fixture(scope="module")
def big_tflite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 1500 -> 1536 Dense layer: 2.3 MB of int8 weights."""
    from keras_int8 import convert_int8
    from tinycompress.compress.tfenv import tf_keras

    tf_keras.utils.set_random_seed(0)
    inputs = tf_keras.Input((1500,))
    path = tmp_path_factory.mktemp("models") / "big_dense.tflite"
    path.write_bytes(convert_int8(tf_keras.Model(inputs, tf_keras.layers.Dense(1536)(inputs)), samples=4))
    return path


@pytest.mark.parametrize(("board", "weights", "table", "size"), [
    ("esp32dev", 500_000, DEFAULT_TABLE, MB),
    ("esp32dev", 900_000, GENERATED_TABLE, 1_536_000),
    ("esp32dev", 2_316_288, GENERATED_TABLE, 4 * MB - 0x10000),
    ("esp32-c3-devkitm-1", 2_316_288, GENERATED_TABLE, 4 * MB - 0x10000),
    ("esp32-s3-devkitc-1", 2_316_288, GENERATED_TABLE, 8 * MB - 0x10000),
])
def test_the_smallest_app_partition_that_holds_the_image_is_chosen(board, weights, table, size):
    fit = check_fit(get_board(board), weights_bytes=weights, arena_bytes=1024)
    assert fit.flash_needed == weights + get_board(board).reserved_flash_bytes
    assert (fit.app_partition.table, fit.app_partition.offset, fit.app_partition.size) == (table, 0x10000, size)
    assert fit.flash_available == size >= fit.flash_needed


def test_an_image_beyond_the_largest_app_partition_is_refused_with_the_numbers():
    board = get_board("esp32dev")
    weights = 3_900_000  # the image (4,162,144 B) is under the 4 MB flash, over what an app partition can get
    assert weights + board.reserved_flash_bytes <= board.flash_bytes
    with pytest.raises(BoardError, match=(
        r"flash: needs 4,162,144 B \(weights 3,900,000 B \+ code estimate 262,144 B\) but the largest app "
        r"partition its 4,194,304 B flash can hold is 4,128,768 B \(from 0x10000 to the end\)")):
        check_fit(board, weights_bytes=weights, arena_bytes=1024)


def test_boards_without_partitions_keep_the_whole_flash():
    fit = check_fit(get_board("nucleo_f446re"), weights_bytes=100_000, arena_bytes=1024)
    assert fit.app_partition is None and fit.flash_available == fit.flash_bytes


def _partition_rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split(",")][:5] for line in text.splitlines()
            if line.strip() and not line.startswith("#")]


def test_a_2_3_mb_model_exported_to_esp32_gets_a_partition_table_that_holds_it(big_tflite, tmp_path):
    result = CliRunner().invoke(main, ["export", str(big_tflite), "--board", "esp32dev", "-o", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "(app partition, partitions.csv)" in result.output
    project = tmp_path / "p"
    fit = load_project(project).fit
    assert fit["weights_bytes"] > 2_300_000 and fit["flash_needed"] > MB

    assert "board_build.partitions = partitions.csv" in (project / "platformio.ini").read_text()
    rows = _partition_rows((project / "partitions.csv").read_text())
    assert [row[:3] for row in rows] == [["nvs", "data", "nvs"], ["phy_init", "data", "phy"],
                                         ["factory", "app", "factory"]]
    spans = [(int(row[3], 16), int(row[4], 16)) for row in rows]
    assert all(start + size <= following for (start, size), (following, _) in zip(spans, spans[1:]))
    app_offset, app_size = spans[-1]
    assert app_offset % 0x10000 == 0 and app_offset >= 0x9000 + 0x1000
    assert fit["flash_needed"] <= app_size and app_offset + app_size <= 4 * MB
    sdkconfig = (project / "sdkconfig.defaults").read_text().splitlines()
    assert "CONFIG_ESPTOOLPY_FLASHSIZE_4MB=y" in sdkconfig
    assert "CONFIG_PARTITION_TABLE_CUSTOM=y" in sdkconfig
    assert 'CONFIG_PARTITION_TABLE_CUSTOM_FILENAME="partitions.csv"' in sdkconfig


def test_a_small_model_keeps_esp_idf_defaults(small_model: ModelSources, tmp_path):
    project = export_project(small_model, get_board("esp32dev"), tmp_path / "p").project
    assert not (project / "partitions.csv").exists() and not (project / "sdkconfig.defaults").exists()
    assert "board_build.partitions" not in (project / "platformio.ini").read_text()
    assert load_project(project).fit["app_partition"] == {"table": DEFAULT_TABLE, "offset": 0x10000, "size": MB}
