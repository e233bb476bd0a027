"""tinycompress: a trained Keras model onto a microcontroller, proven on the device."""

__version__ = "0.1.0"
