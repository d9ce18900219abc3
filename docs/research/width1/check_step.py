"""Does ``width1_jax.py``'s step equal ``PixelLevelDomainTransfer.train_step``?

One per_case step of C+RF+DD and of C+MSE at width 0.0625 (float32, batch
16), from the same initial weights on the same batch, once by the project's
Keras model on TensorFlow and once by the JAX port; then the updated weights
are compared. Two processes, as Keras picks its backend at import:

  python docs/research/width1/check_step.py tf demo.npz.xz step.npz [EPS]
  KERAS_BACKEND=jax python docs/research/width1/check_step.py \\
      jax demo.npz.xz step.npz [EPS]

EPS is Adam's epsilon (default Keras' 1e-7). Adam's first update is about
±learning rate whatever the gradient's size, so a gradient entry near zero
whose sign differs by round-off moves its weight by 2 × 2e-4; with EPS=1 the
update is proportional to the gradient, which compares the gradients.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

WIDTH, BATCH = 0.0625, 16
METHODS = ("c_rf_dd", "c_mse")


def networks_at(width):
    from pldt_tf import networks

    return (
        networks.build_converter(width, dtype="float32"),
        networks.build_discriminator("real_fake", width, dtype="float32"),
        networks.build_discriminator("domain", width, dtype="float32"),
    )


def tf_side(data, out, epsilon):
    import keras

    from pldt_tf import model as model_lib
    from pldt_tf.data.preprocess import to_unit_range as unit

    keras.utils.set_random_seed(1)
    nets = networks_at(WIDTH)
    rng = np.random.default_rng(0)
    count = len(data["train_products"])
    idx = rng.permutation(len(data["train_photos"]))[:BATCH]
    pidx = data["train_product_index"][idx]
    nidx = (pidx + 1 + rng.integers(0, count - 1, BATCH)) % count
    saved = {"idx": idx, "pidx": pidx, "nidx": nidx}
    initial = [net.get_weights() for net in nets]
    for name, weights in zip("cra", initial, strict=True):
        saved.update({f"init_{name}_{i}": w for i, w in enumerate(weights)})

    batch = {
        "source": unit(data["train_photos"][idx]),
        "target": unit(data["train_products"][pidx]),
        "negative": unit(data["train_products"][nidx]),
    }
    for method in METHODS:
        for net, weights in zip(nets, initial, strict=True):
            net.set_weights(weights)
        model = model_lib.PixelLevelDomainTransfer(
            *nets, method=method, selection="per_case"
        )
        model.compile(
            *(
                keras.optimizers.Adam(2e-4, beta_1=0.5, epsilon=epsilon)
                for _ in range(3)
            )
        )
        logs = model.train_step(batch)
        print("tf", method, {k: round(float(v), 5) for k, v in logs.items()})
        for name, net in zip("cra", nets, strict=True):
            for i, w in enumerate(net.trainable_weights):
                saved[f"{method}_{name}_{i}"] = w.numpy()
    np.savez(out, **saved)


def jax_side(data, out, epsilon):
    import jax.numpy as jnp
    import width1_jax

    saved = np.load(out)
    for method in METHODS:
        nets = [width1_jax.Net(net, 2e-4, epsilon) for net in networks_at(WIDTH)]
        for name, net in zip("cra", nets, strict=True):
            count = len(net.model.get_weights())
            net.model.set_weights([saved[f"init_{name}_{i}"] for i in range(count)])
        used = nets if method == "c_rf_dd" else [nets[0], None, None]
        step = width1_jax.make_step(method, *used)
        state = {key: net.state() for key, net in zip("cra", used, strict=True) if net}
        state, logs = step(
            state,
            jnp.asarray(data["train_photos"]),
            jnp.asarray(data["train_products"]),
            *(jnp.asarray(saved[k], jnp.int32) for k in ("idx", "pidx", "nidx")),
        )
        print("jax", method, {k: round(float(v), 5) for k, v in logs.items()})
        for name in "cra":
            if name not in state:
                continue
            diffs = [
                np.abs(np.asarray(w) - saved[f"{method}_{name}_{i}"])
                for i, w in enumerate(state[name][0])
            ]
            largest = max(float(d.max()) for d in diffs)
            moved = sum(int((d > 1e-5).sum()) for d in diffs)
            size = sum(d.size for d in diffs)
            print(
                f"  {method} {name}: max |jax - tf| {largest:.1e}; "
                f"{moved} of {size} weights differ by more than 1e-5"
            )


if __name__ == "__main__":
    from arrays import load

    side, arrays, out = sys.argv[1:4]
    epsilon = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-7
    (tf_side if side == "tf" else jax_side)(load(arrays), out, epsilon)
