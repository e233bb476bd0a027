"""The recipe parser: defaults, every key, and one-line errors for bad recipes."""

from __future__ import annotations

import pytest

from tinycompress.compress.recipe import Recipe, load_recipe, parse_recipe
from tinycompress.errors import RecipeError

pytestmark = pytest.mark.host

FULL = """
[prune]
target_sparsity = 0.75
schedule = "constant"
begin_epoch = 0.5
end_epoch = 2
frequency = 10
depthwise = true

[cluster]
clusters = 8
init = "linear"
preserve_sparsity = false
depthwise = true

[quantize]
mode = "qat"
calibration_samples = 64

[finetune]
epochs = 3
batch_size = 16
learning_rate = 1e-4
seed = 7
"""


def test_no_recipe_gives_the_defaults():
    recipe = load_recipe(None)
    assert recipe == Recipe() == parse_recipe("")
    assert recipe.prune.target_sparsity == 0.5 and recipe.cluster.clusters == 16
    assert recipe.cluster.init == "kmeans++" and recipe.cluster.preserve_sparsity
    assert recipe.quantize.mode == "ptq"


def test_every_key_is_read(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(FULL)
    recipe = load_recipe(path)
    assert recipe.prune.target_sparsity == 0.75 and recipe.prune.schedule == "constant"
    assert recipe.prune.begin_epoch == 0.5 and recipe.prune.end_epoch == 2.0 and recipe.prune.frequency == 10
    assert (recipe.cluster.clusters, recipe.cluster.init, recipe.cluster.preserve_sparsity) == (8, "linear", False)
    assert recipe.prune.depthwise and recipe.cluster.depthwise and not Recipe().cluster.depthwise
    assert (recipe.quantize.mode, recipe.quantize.calibration_samples) == ("qat", 64)
    assert recipe.finetune == type(recipe.finetune)(epochs=3, batch_size=16, learning_rate=1e-4, seed=7)
    assert recipe.to_dict()["prune"]["end_epoch"] == 2.0 and "begin_step" not in recipe.to_dict()["prune"]


def test_zero_disables_stages():
    recipe = parse_recipe("[prune]\ntarget_sparsity = 0\n[cluster]\nclusters = 0\n")
    assert not recipe.prune.enabled and not recipe.cluster.enabled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[prune]\ntarget_sparsty = 0.5\n", "unknown key 'target_sparsty' in \\[prune\\]"),
        ("[pruning]\ntarget_sparsity = 0.5\n", "unknown section \\[pruning\\]"),
        ("[prune]\ntarget_sparsity = 1.0\n", "outside \\[0, 1\\)"),
        ("[prune]\ntarget_sparsity = -0.1\n", "outside \\[0, 1\\)"),
        ("[prune]\ntarget_sparsity = nan\n", "outside \\[0, 1\\)"),
        ("[prune]\ntarget_sparsity = \"half\"\n", "must be a number"),
        ("[prune]\nbegin_step = 10\nend_epoch = 2\n", "mixes \\*_step and \\*_epoch"),
        ("[prune]\nbegin_epoch = 2\nend_epoch = 1\n", "ends \\(1.0\\) before it begins"),
        ("[prune]\nschedule = \"cubic\"\n", "schedule = 'cubic' is not one of"),
        ("[cluster]\nclusters = 1\npreserve_sparsity = false\n", "clusters = 1 must be >= 2"),
        ("[cluster]\nclusters = 2\n", "must be >= 3 with preserve_sparsity"),
        ("[cluster]\nclusters = 300\n", "exceeds the 256 values"),
        ("[cluster]\nclusters = 16.0\n", "must be an integer"),
        ("[cluster]\npreserve_sparsity = 1\n", "must be true or false"),
        ("[quantize]\nmode = \"int4\"\n", "mode = 'int4' is not one of 'ptq', 'qat'"),
        ("[finetune]\nepochs = 0\n", "epochs = 0 must be >= 1"),
        ("[finetune]\nlearning_rate = 2\n", "learning_rate = 2.0 must be in"),
        ("[finetune]\nseed = -1\n", "seed = -1 is outside \\[0, 4294967296\\)"),
        ("[finetune]\nseed = 4294967296\n", "seed = 4294967296 is outside"),
        ("prune = 0.5\n", "must be a \\[prune\\] table"),
        ("[prune\n", "not valid TOML"),
    ],
)
def test_bad_recipes_are_one_line_errors(text, message):
    with pytest.raises(RecipeError, match=message) as info:
        parse_recipe(text, "r.toml")
    assert "\n" not in str(info.value) and str(info.value).startswith("r.toml")


def test_missing_recipe_file(tmp_path):
    with pytest.raises(RecipeError, match="not found"):
        load_recipe(tmp_path / "absent.toml")


def test_largest_seed_is_accepted():
    assert parse_recipe("[finetune]\nseed = 4294967295\n").finetune.seed == 2**32 - 1
