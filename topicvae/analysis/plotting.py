"""Figures, one function per figure (matplotlib, written to PNG)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def plot_sweep(table: pd.DataFrame, out: str | Path) -> Path:
    """NPMI, diversity and perplexity against K, one line per model, side by side in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("npmi", "NPMI (top 10)"), ("diversity", "topic diversity (top 25)"),
              ("perplexity", "perplexity (upper bound)")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), constrained_layout=True)
    for ax, (col, title) in zip(axes, panels):
        for model, rows in table.sort_values("n_topics").groupby("model", sort=True):
            ok = rows[col].notna()
            if ok.any():
                ax.plot(rows.loc[ok, "n_topics"], rows.loc[ok, col], marker="o", label=model)
        ax.set_title(title)
        ax.set_xlabel("topics (K)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    ref = table["reference"].dropna().unique()
    if len(ref):
        fig.suptitle(f"coherence reference: {', '.join(map(str, ref))}", fontsize=9)
    out = Path(out)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
