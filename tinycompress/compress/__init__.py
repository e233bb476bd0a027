"""The compress stage: Keras model → pruned, clustered, full-int8 ``.tflite``.

``pipeline.compress`` runs the stages; ``data.load_dataset`` (no TensorFlow
import) is shared with the later stages; ``tfenv`` is the only module that
imports TensorFlow. See docs/compress.md.
"""
