"""Training: the fit loop, the model factory, devices and strategies, the
callbacks, and the workdir (where every trained model is loaded from)."""
