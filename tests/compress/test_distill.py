"""Knowledge distillation: the loss against a hand computation, the recipe checks, and compress end to end."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging

import numpy as np
import pytest

from tinycompress.compress.data import Dataset
from tinycompress.compress.demo import train_demo_model
from tinycompress.compress.distill import distillation_loss, soft_targets
from tinycompress.compress.metrics import AUTOENCODER, CLASSIFICATION, REGRESSION
from tinycompress.compress.pipeline import compress
from tinycompress.compress.recipe import (
    ChannelsConfig,
    ClusterConfig,
    DistillConfig,
    FinetuneConfig,
    LowRankConfig,
    PruneConfig,
    QuantizeConfig,
    Recipe,
    parse_recipe,
)
from tinycompress.compress.tfenv import tf, tf_keras
from tinycompress.compress.train import finetune
from tinycompress.errors import RecipeError
from tinycompress.progress import NullProgress

pytestmark = pytest.mark.host
log = logging.getLogger(__name__)

TEACHER_LOGITS = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], np.float32)
STUDENT_LOGITS = np.array([[1.0, 1.0, 0.0], [-0.5, 0.5, 1.5]], np.float32)
LABELS = np.array([0, 1])


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _by_hand(alpha: float, temperature: float) -> np.ndarray:
    """Hinton's loss written out in float64: cross-entropy on the labels, T²-scaled KL on the soft targets."""
    t, s = TEACHER_LOGITS.astype(np.float64), STUDENT_LOGITS.astype(np.float64)
    hard = -np.log(_softmax(s)[np.arange(2), LABELS])
    pt, ps = _softmax(t / temperature), _softmax(s / temperature)
    soft = np.sum(pt * np.log(pt / ps), axis=-1)
    return (1 - alpha) * hard + alpha * temperature**2 * soft


def _packed(teacher_scores: np.ndarray) -> tf.Tensor:
    return tf.constant(np.concatenate([LABELS[:, None].astype(np.float32), teacher_scores], axis=1))


@pytest.mark.parametrize("alpha, temperature", [(0.0, 4.0), (0.5, 4.0), (1.0, 2.0), (0.3, 1.0)])
def test_loss_matches_hand_computation_from_logits_and_from_probabilities(alpha, temperature):
    expected = _by_hand(alpha, temperature)
    from_logits = distillation_loss(alpha, temperature, from_logits=True)(
        _packed(TEACHER_LOGITS), tf.constant(STUDENT_LOGITS))
    np.testing.assert_allclose(from_logits.numpy(), expected, rtol=1e-5)
    # A softmax model hands over probabilities: their logs differ from the logits by a constant per row,
    # which the tempered softmax ignores, so the loss is the same.
    teacher_log_probs = np.log(_softmax(TEACHER_LOGITS)).astype(np.float32)
    from_probabilities = distillation_loss(alpha, temperature, from_logits=False)(
        _packed(teacher_log_probs), tf.constant(_softmax(STUDENT_LOGITS).astype(np.float32)))
    np.testing.assert_allclose(from_probabilities.numpy(), expected, rtol=1e-5)


def test_teacher_targets_are_log_probabilities_row_for_row():
    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential([tf_keras.Input((4,)), tf_keras.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    data = Dataset("toy", x, np.arange(5) % 3, x, np.arange(5) % 3)
    targets = soft_targets(model, data, DistillConfig(alpha=0.5, temperature=3.0), from_logits=False)
    np.testing.assert_allclose(np.exp(targets.teacher), model(x).numpy(), rtol=1e-5)
    packed = targets.targets(data.y_train)
    assert packed.shape == (5, 4) and packed.dtype == np.float32
    np.testing.assert_array_equal(packed[:, 0], data.y_train)


@pytest.mark.parametrize("line, problem", [
    ("alpha = 1.5", "alpha = 1.5 is outside [0, 1]"),
    ("alpha = -0.1", "alpha = -0.1 is outside [0, 1]"),
    ("alpha = nan", "alpha = nan is outside [0, 1]"),
    ("alpha = 0.5\ntemperature = 0", "temperature = 0.0 must be a number > 0"),
    ("alpha = 0.5\ntemperature = -2.0", "temperature = -2.0 must be a number > 0"),
    ("alpha = 0.5\ntemperature = inf", "temperature = inf must be a number > 0"),
    ("alpha = 0.5\ntemperature = nan", "temperature = nan must be a number > 0"),
    ("alpha = 0.5\ntemp = 4", "unknown key 'temp' in [distill]"),
])
def test_bad_distill_values_are_one_line_recipe_errors(line, problem):
    with pytest.raises(RecipeError) as error:
        parse_recipe(f"[distill]\n{line}\n", "r.toml")
    assert problem in str(error.value) and "\n" not in str(error.value)


def test_distill_section_parses_and_alpha_zero_is_off():
    recipe = parse_recipe("[distill]\nalpha = 1\ntemperature = 2\n")
    assert recipe.distill == DistillConfig(alpha=1.0, temperature=2.0) and recipe.distill.enabled
    assert not Recipe().distill.enabled


@pytest.mark.parametrize("task, outputs, y_train", [
    (AUTOENCODER, 8, np.zeros((10, 8), np.float32)),  # reconstruction: the features as targets
    (REGRESSION, 1, np.zeros(10, np.float32)),         # one float output
    (CLASSIFICATION, 1, np.zeros(10, np.int64)),       # class labels, but one output holds no class scores
])
def test_distillation_without_class_scores_is_refused(task, outputs, y_train):
    model = tf_keras.Sequential([tf_keras.Input((8,)), tf_keras.layers.Dense(outputs)])
    x = np.zeros((10, 8), np.float32)
    data = Dataset("toy", x, y_train, x, y_train, task=task)
    with pytest.raises(RecipeError, match=r"\[distill\] needs a classifier") as error:
        soft_targets(model, data, DistillConfig(alpha=0.5), from_logits=True)
    assert "\n" not in str(error.value)


def test_compress_refuses_distilling_an_autoencoder_before_training(tmp_path, keras3):
    keras3.utils.set_random_seed(0)
    model = keras3.Sequential([keras3.Input((64,)), keras3.layers.Dense(8, activation="relu"), keras3.layers.Dense(64)])
    model.save(tmp_path / "ae.keras")
    recipe = Recipe(distill=DistillConfig(alpha=0.5), finetune=FinetuneConfig(epochs=1, batch_size=64))
    with pytest.raises(RecipeError, match=r"needs a classifier .* the task is autoencoder"):
        compress(tmp_path / "ae.keras", "digits", tmp_path / "out", recipe, task=AUTOENCODER)
    assert not (tmp_path / "out").exists()


# Between them the two runs fine-tune in every stage, one epoch each.
CNN_STAGES = Recipe(channels=ChannelsConfig(keep=0.75), quantize=QuantizeConfig(mode="qat", calibration_samples=50))
MLP_STAGES = Recipe(lowrank=LowRankConfig(rank=8), quantize=QuantizeConfig(calibration_samples=50))


def _recipe(stages: Recipe, alpha: float) -> Recipe:
    return dataclasses.replace(
        stages, prune=PruneConfig(target_sparsity=0.5), cluster=ClusterConfig(clusters=8),
        distill=DistillConfig(alpha=alpha, temperature=4.0), finetune=FinetuneConfig(epochs=1, batch_size=64),
    )


@pytest.fixture(scope="module")
def demo_cnn(tmp_path_factory) -> str:
    return str(train_demo_model(tmp_path_factory.mktemp("distill") / "digits_cnn.keras", "cnn", epochs=2).path)


@pytest.mark.parametrize("model_fixture, stages, distilled", [
    pytest.param("demo_cnn", CNN_STAGES, ["channels", "pruned", "clustered", "qat"], id="demo_cnn"),
    pytest.param("keras3_mlp_logits", MLP_STAGES, ["lowrank", "pruned", "clustered"], id="mlp_logits"),
])
def test_compress_with_and_without_distillation(tmp_path, request, model_fixture, stages, distilled):
    """Both runs complete and say what they did; the accuracies are logged (``--log-cli-level=INFO``), not asserted."""
    model = request.getfixturevalue(model_fixture)
    reports = {}
    for alpha in (0.0, 0.5):
        result = compress(model, "digits", tmp_path / f"alpha{alpha}", _recipe(stages, alpha))
        reports[alpha] = json.loads((result.out_dir / "report.json").read_text())
        assert reports[alpha]["recipe"]["distill"] == {"alpha": alpha, "temperature": 4.0}
        assert all(0 <= v <= 1 for v in reports[alpha]["accuracy"].values() if v is not None)
    assert reports[0.0]["distillation"] is None
    assert reports[0.5]["distillation"] == {stage: {"alpha": 0.5, "temperature": 4.0} for stage in distilled}
    assert "teacher" in reports[0.5]["timing_s"] and "teacher" not in reports[0.0]["timing_s"]
    # Same seed and data (compress is deterministic): only the loss differs, so the fine-tuned weights must too.
    digests = {hashlib.sha256((tmp_path / f"alpha{alpha}" / "model_int8.tflite").read_bytes()).hexdigest()
               for alpha in reports}
    assert len(digests) == 2
    for alpha, report in reports.items():
        log.info("%s alpha=%s accuracy %s", model_fixture, alpha, json.dumps(report["accuracy"]))


def test_student_learns_from_soft_targets_alone(digits):
    """alpha = 1 hides the labels: a fresh student classifies only if each sample got its own teacher row."""
    data = digits.reshaped((64,))
    tf_keras.utils.set_random_seed(0)
    teacher = tf_keras.Sequential([tf_keras.Input((64,)), tf_keras.layers.Dense(10, activation="softmax")])
    finetune(teacher, data, FinetuneConfig(epochs=5, learning_rate=1e-2), from_logits=False,
             progress=NullProgress(), description="teacher")
    student = tf_keras.Sequential([tf_keras.Input((64,)), tf_keras.layers.Dense(10)])
    targets = soft_targets(teacher, data, DistillConfig(alpha=1.0, temperature=2.0), from_logits=False)
    finetune(student, data, FinetuneConfig(epochs=5, learning_rate=1e-2), from_logits=True,
             progress=NullProgress(), description="student", teacher=targets)
    agree = np.mean(np.argmax(student.predict(data.x_test, verbose=0), -1)
                    == np.argmax(teacher.predict(data.x_test, verbose=0), -1))
    assert agree > 0.9
