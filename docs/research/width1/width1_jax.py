"""Width-1 runs of the demo config on a GPU without TensorFlow.

The project's own networks (``pldt_tf/networks.py`` is plain Keras 3) on
the JAX backend, trained by Algorithm 1's ``per_case`` step as
``pldt_tf/model.py`` does it (D_R update, D_A update, converter update
against the updated discriminators; non-saturating loss; Adam(2e-4, 0.5)
per network; lr ÷ 10 for the last ``decay_epochs``; fresh uniform
negatives from the other training products), written with
``stateless_call``. Writes, per run and snapshot step, the converter's
drawings of every test photo (uint8) and the codes of the first 6,000
training photos and every test photo, for scoring by the project's probe
on a machine with TensorFlow.

  python width1_jax.py --data=demo.npz.xz --out=$OUT --runs=c_rf_dd:0,c_rf:0

A run is ``method:seed[:epochs[:snapshots[:width]]]``, the snapshots being
steps joined by ``/``: ``c_rf_dd:1:120:6720/10080``, or
``c_rf_dd:0:60::0.5`` for width 0.5 with no extra snapshots. A run's last
step is always snapshotted.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.normpath(os.path.join(HERE, "..", "..", ".."))]
from arrays import load  # noqa: E402

from pldt_tf import networks, visualize  # noqa: E402


def to_unit(images):
    """uint8 [0, 255] → float32 [-1, 1] (as ``preprocess.to_unit_range``)."""
    return images.astype(jnp.float32) / 127.5 - 1.0


def bce(logits, label):
    """tf.nn.sigmoid_cross_entropy_with_logits, per example."""
    logits = logits.astype(jnp.float32)
    return (
        jnp.maximum(logits, 0.0) - logits * label + jnp.log1p(jnp.exp(-jnp.abs(logits)))
    )


class Net:
    """A Keras model with its optimizer, held as stateless values."""

    def __init__(self, model, lr_schedule, epsilon=1e-7):
        self.model = model
        self.optimizer = keras.optimizers.Adam(lr_schedule, beta_1=0.5, epsilon=epsilon)
        self.optimizer.build(model.trainable_variables)

    def state(self):
        return (
            [v.value for v in self.model.trainable_variables],
            [v.value for v in self.model.non_trainable_variables],
            [v.value for v in self.optimizer.variables],
        )

    def assign(self, state):
        for variables, values in zip(
            (
                self.model.trainable_variables,
                self.model.non_trainable_variables,
                self.optimizer.variables,
            ),
            state,
            strict=True,
        ):
            for v, x in zip(variables, values, strict=True):
                v.assign(x)


def make_step(method, conv, d_r, d_a):
    def step(state, photos, products, idx, pidx, nidx):
        src = to_unit(photos[idx])
        tgt = to_unit(products[pidx])
        neg = to_unit(products[nidx])
        (ct, cn, co) = state["c"]

        def forward(ct):
            return conv.model.stateless_call(ct, cn, src, training=True)

        gen, vjp, cn = jax.vjp(forward, ct, has_aux=True)
        gen_sg = jax.lax.stop_gradient(gen)
        new = dict(state)
        logs = {}

        if d_r is not None:
            rt, rn, ro = state["r"]

            def r_loss(rt):
                n = rn
                real, n = d_r.model.stateless_call(rt, n, tgt, training=True)
                fake, n = d_r.model.stateless_call(rt, n, gen_sg, training=True)
                negl, n = d_r.model.stateless_call(rt, n, neg, training=True)
                per = (bce(real, 1.0) + bce(fake, 0.0) + bce(negl, 1.0)) / 3.0
                aux = (n, jax.nn.sigmoid(real).mean(), jax.nn.sigmoid(fake).mean())
                return per.mean(), aux

            (loss, (rn2, pr, pf)), g = jax.value_and_grad(r_loss, has_aux=True)(rt)
            rt2, ro2 = d_r.optimizer.stateless_apply(ro, g, rt)
            new["r"] = (rt2, rn2, ro2)
            logs.update(d_r_loss=loss, d_r_real=pr, d_r_fake=pf)
        if d_a is not None:
            at, an, ao = state["a"]

            def a_loss(at):
                n = an
                asso, n = d_a.model.stateless_call(at, n, [src, tgt], training=True)
                gena, n = d_a.model.stateless_call(at, n, [src, gen_sg], training=True)
                unas, n = d_a.model.stateless_call(at, n, [src, neg], training=True)
                per = (bce(asso, 1.0) + bce(unas, 0.0) + bce(gena, 0.0)) / 3.0
                aux = (
                    n,
                    jax.nn.sigmoid(asso).mean(),
                    jax.nn.sigmoid(unas).mean(),
                    jax.nn.sigmoid(gena).mean(),
                )
                return per.mean(), aux

            (loss, (an2, pa, pu, pg)), g = jax.value_and_grad(a_loss, has_aux=True)(at)
            at2, ao2 = d_a.optimizer.stateless_apply(ao, g, at)
            new["a"] = (at2, an2, ao2)
            logs.update(d_a_loss=loss, d_a_asso=pa, d_a_unas=pu, d_a_gen=pg)

        def c_loss(gen):
            aux = {}
            if method == "c_mse":
                return jnp.mean(jnp.square(gen.astype(jnp.float32) - tgt)), aux
            parts = []
            if d_r is not None:
                rt2, rn2, _ = new["r"]
                logits, aux["r"] = d_r.model.stateless_call(
                    rt2, rn2, gen, training=True
                )
                parts.append(bce(logits, 1.0).mean())
            if d_a is not None:
                at2, an2, _ = new["a"]
                logits, aux["a"] = d_a.model.stateless_call(
                    at2, an2, [src, gen], training=True
                )
                parts.append(bce(logits, 1.0).mean())
            return sum(parts) / len(parts), aux

        (loss, aux), g_gen = jax.value_and_grad(c_loss, has_aux=True)(gen)
        (g,) = vjp(g_gen)
        ct2, co2 = conv.optimizer.stateless_apply(co, g, ct)
        new["c"] = (ct2, cn, co2)
        # The converter's loss calls the discriminators in training mode, so
        # (as in Keras) their moving statistics move once more.
        if "r" in aux:
            new["r"] = (new["r"][0], aux["r"], new["r"][2])
        if "a" in aux:
            new["a"] = (new["a"][0], aux["a"], new["a"][2])
        logs["c_loss"] = loss
        return new, logs

    return jax.jit(step, donate_argnums=(0,))


def snapshot(conv, state, data, train_codes=6000, batch=594):
    ct, cn, _ = state["c"]
    encoder = conv.model.get_layer("encoder")
    n_enc = len(encoder.trainable_variables)
    # The converter's variables are the encoder's followed by the decoder's.
    assert [id(v) for v in conv.model.trainable_variables[:n_enc]] == [
        id(v) for v in encoder.trainable_variables
    ]
    n_enc_nt = len(encoder.non_trainable_variables)

    @jax.jit
    def infer(x):
        x = to_unit(x)
        image, _ = conv.model.stateless_call(ct, cn, x, training=False)
        code, _ = encoder.stateless_call(ct[:n_enc], cn[:n_enc_nt], x, training=False)
        return image, code

    def batched(x):
        parts = [infer(jnp.asarray(x[i : i + batch])) for i in range(0, len(x), batch)]
        return (
            np.concatenate([np.asarray(p[0], np.float32) for p in parts]),
            np.concatenate([np.asarray(p[1], np.float32) for p in parts]),
        )

    drawings, test_codes = batched(data["test_photos"])
    _, train = batched(data["train_photos"][:train_codes])
    return {
        "drawings": visualize.to_uint8(drawings),
        "test_codes": test_codes,
        "train_codes": train,
    }


def run(method, seed, epochs, snapshots, width, args, data, out, deadline):
    keras.utils.set_random_seed(seed)
    policy = args.precision
    photos = jnp.asarray(data["train_photos"])
    products = jnp.asarray(data["train_products"])
    product_index = data["train_product_index"]
    n, p = len(product_index), len(products)
    per_epoch = n // args.batch
    total = per_epoch * epochs
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
        [(epochs - args.decay_epochs) * per_epoch],
        [args.lr, args.lr / 10.0],
    )
    conv = Net(networks.build_converter(width, dtype=policy), schedule)
    d_r = d_a = None
    if method in ("c_rf_dd", "c_rf"):
        d_r = Net(
            networks.build_discriminator("real_fake", width, dtype=policy),
            schedule,
        )
    if method == "c_rf_dd":
        d_a = Net(networks.build_discriminator("domain", width, dtype=policy), schedule)
    state = {"c": conv.state()}
    if d_r:
        state["r"] = d_r.state()
    if d_a:
        state["a"] = d_a.state()
    step = make_step(method, conv, d_r, d_a)
    rng = np.random.default_rng(seed)
    snaps = set(snapshots) | {total}
    tag = f"{method}-s{seed}-e{epochs}"
    if width != 1.0:
        tag += f"-w{width:g}"
    print(
        f"[{tag}] width {width} batch {args.batch} {policy}: "
        f"{epochs} epochs x {per_epoch} steps = {total}",
        flush=True,
    )
    start = time.time()
    done = 0
    history = []
    for _epoch in range(epochs):
        perm = rng.permutation(n)
        for i in range(per_epoch):
            idx = perm[i * args.batch : (i + 1) * args.batch]
            pidx = product_index[idx]
            nidx = (pidx + 1 + rng.integers(0, p - 1, size=len(idx))) % p
            state, logs = step(
                state,
                photos,
                products,
                jnp.asarray(idx, jnp.int32),
                jnp.asarray(pidx, jnp.int32),
                jnp.asarray(nidx, jnp.int32),
            )
            done += 1
            if done == 20:
                jax.block_until_ready(state)
                t20 = time.time()
            if done % args.log_every == 0 or done == total:
                logs = {k: float(v) for k, v in logs.items()}
                rate = (done - 20) / max(time.time() - t20, 1e-9) if done > 20 else 0
                history.append({"step": done, **logs})
                print(
                    f"[{tag}] step {done}/{total} {rate:.1f} steps/s "
                    + " ".join(f"{k}={v:.3f}" for k, v in logs.items()),
                    flush=True,
                )
                if not np.all(np.isfinite(list(logs.values()))):
                    raise FloatingPointError(
                        f"{method}: non-finite loss at step {done}"
                    )
            out_of_time = time.time() > deadline
            if done in snaps or out_of_time:
                s = snapshot(conv, state, data)
                np.savez_compressed(os.path.join(out, f"{tag}-{done}.npz"), **s)
                print(
                    f"[{tag}] snapshot at step {done} ({time.time() - start:.0f} s)",
                    flush=True,
                )
            if out_of_time:
                print(f"[{tag}] stopped at step {done}: out of time", flush=True)
                return history, time.time() - start
    return history, time.time() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--runs",
        default="c_rf_dd:0,c_rf:0",
        help="comma-separated method:seed[:epochs[:snapshots[:width]]]; see the top",
    )
    parser.add_argument(
        "--width", type=float, default=1.0, help="unless a run names one"
    )
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--decay_epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--precision", default="mixed_bfloat16")
    parser.add_argument("--log_every", type=int, default=200)
    parser.add_argument("--budget_s", type=float, default=480)
    parser.add_argument("--limit_train", type=int, default=0)
    args = parser.parse_args()
    t0 = time.time()
    data = load(args.data)
    if args.limit_train:
        data["train_photos"] = data["train_photos"][: args.limit_train]
        data["train_product_index"] = data["train_product_index"][: args.limit_train]
    print(
        f"data loaded in {time.time() - t0:.1f} s; devices {jax.devices()}", flush=True
    )
    deadline = t0 + args.budget_s
    summary = {"args": vars(args), "runs": {}}
    for spec in args.runs.split(","):
        method, seed, *rest = spec.split(":")
        epochs = int(rest[0]) if rest else args.epochs
        snaps = [int(x) for x in rest[1].split("/") if x] if len(rest) > 1 else []
        width = float(rest[2]) if len(rest) > 2 else args.width
        history, seconds = run(
            method, int(seed), epochs, snaps, width, args, data, args.out, deadline
        )
        summary["runs"][spec] = {"seconds": seconds, "history": history}
        with open(os.path.join(args.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        if time.time() > deadline:
            break


if __name__ == "__main__":
    main()
