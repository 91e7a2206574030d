"""The dashboard's Plotly figures, one function per figure; the pages only place them.

Hover texts are HTML to Plotly, so names that come from documents or people are escaped.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from topicvae.analysis.topics import TopicView

LEGEND_MAX = 20  # more categories than this share one trace: many WebGL traces are slow to draw
PALETTE = px.colors.qualitative.Dark24 + px.colors.qualitative.Light24 + px.colors.qualitative.Alphabet
MARGIN = {"l": 10, "r": 10, "t": 10, "b": 10}


def short_label(label: str, width: int = 40) -> str:
    """``label`` cut to ``width`` characters, with an ellipsis."""
    return label if len(label) <= width else label[: width - 1] + "…"


# ---------------------------------------------------------------------------- topics
def intertopic_figure(view: TopicView, labels: list[str], words: list[list[str]], focus: int) -> go.Figure:
    """The topics as circles at their MDS coordinates, area by prevalence, ``focus`` in red."""
    K = len(labels)
    size = np.sqrt(view.prevalence / view.prevalence.max())
    colors = ["#d62728" if k == focus else "#1f77b4" for k in range(K)]
    fig = go.Figure(go.Scatter(
        x=view.coords[:, 0], y=view.coords[:, 1], mode="markers+text", text=[str(k) for k in range(K)],
        textposition="middle center", textfont={"color": "white", "size": 11},
        marker={"size": 14 + 56 * size, "color": colors, "opacity": 0.6, "line": {"width": 1, "color": "#333"}},
        customdata=np.column_stack([np.arange(K), 100 * view.prevalence, [" ".join(w[:8]) for w in words],
                                    labels]),
        hovertemplate="<b>%{customdata[3]}</b><br>prevalence %{customdata[1]:.1f} %<br>%{customdata[2]}<extra></extra>",
    ))
    fig.update_layout(height=480, margin=MARGIN, showlegend=False,
                      xaxis={"title": "MDS 1", "zeroline": True, "showticklabels": False},
                      yaxis={"title": "MDS 2", "zeroline": True, "showticklabels": False, "scaleanchor": "x"},
                      dragmode="pan")
    return fig


def words_figure(table: pd.DataFrame) -> go.Figure:
    """A topic's relevant words: expected tokens overall (grey) and drawn from the topic (red)."""
    words = table["word"].tolist()[::-1]
    fig = go.Figure()
    fig.add_bar(y=words, x=table["overall"].tolist()[::-1], orientation="h", name="overall",
                marker_color="#c7c7c7", hovertemplate="%{y}: %{x:,.0f} expected tokens overall<extra></extra>")
    fig.add_bar(y=words, x=table["in_topic"].tolist()[::-1], orientation="h", name="in this topic",
                marker_color="#d62728", hovertemplate="%{y}: %{x:,.0f} expected tokens in the topic<extra></extra>")
    fig.update_layout(barmode="overlay", height=22 * len(words) + 90, margin={**MARGIN, "t": 30},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                      xaxis={"title": "expected tokens"})
    return fig


def dendrogram_figure(linkage: np.ndarray, labels: list[str]) -> go.Figure:
    """The topic hierarchy as a dendrogram lying on its side: topics (leaves) down the left,
    the height of each merge across (:class:`topicvae.runs.merging.Hierarchy`). ``linkage``: scipy's
    (K − 1, 4) linkage matrix."""
    from scipy.cluster.hierarchy import dendrogram

    tree = dendrogram(linkage, no_plot=True, labels=[short_label(l, 45) for l in labels])
    fig = go.Figure()
    for xs, ys in zip(tree["dcoord"], tree["icoord"]):  # one ⊐-shaped link per merge
        fig.add_scatter(x=xs, y=ys, mode="lines", line={"color": "#1f77b4", "width": 1.5}, showlegend=False,
                        hovertemplate=f"merged at height {max(xs):.3f}<extra></extra>")
    leaves = tree["ivl"]
    fig.update_layout(height=max(260, 22 * len(leaves) + 80), margin=MARGIN, showlegend=False,
                      xaxis={"title": "height of the merge (Ward's cost in Jensen–Shannon distance)",
                             "rangemode": "tozero"},
                      yaxis={"tickvals": [5 + 10 * i for i in range(len(leaves))], "ticktext": leaves,
                             "showgrid": False, "zeroline": False})
    return fig


# ---------------------------------------------------------------------------- drift (topicvae update)
STATUS_COLOURS = {"kept": "#2ca02c", "moved": "#ff7f0e", "new": "#d62728"}


def drift_figure(table: pd.DataFrame, labels: list[str], threshold: float) -> go.Figure:
    """Each topic's Jensen–Shannon distance from its matched old topic, coloured by its status,
    with the distance beyond which a topic counts as new."""
    table = table.sort_values("topic")
    names = [html.escape(short_label(labels[k], 45)) for k in table["topic"]]
    fig = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        part = table["status"] == status
        if part.any():
            fig.add_trace(go.Bar(x=table.loc[part, "topic"], y=table.loc[part, "js_distance"], name=status,
                                 marker_color=colour, customdata=np.array(names, dtype=object)[part.to_numpy()],
                                 hovertemplate="%{customdata}: JS %{y:.3f}<extra></extra>"))
    fig.add_hline(y=threshold, line_dash="dot", line_color="#555", annotation_text=f"new beyond {threshold:g}")
    fig.update_layout(height=300, margin=MARGIN, barmode="overlay", legend={"orientation": "h", "y": 1.12},
                      yaxis={"title": "JS distance from the old topic", "range": [0, 1]},
                      xaxis={"title": "topic", "dtick": 1 if len(table) <= 30 else None})
    return fig


def prevalence_shift_figure(table: pd.DataFrame, labels: list[str]) -> go.Figure:
    """Each topic's prevalence before the update, after it (every document) and in the new documents."""
    table = table.sort_values("topic")
    names = [html.escape(short_label(labels[k], 45)) for k in table["topic"]]
    fig = go.Figure()
    for column, name, colour in (("prevalence_before", "before (old run, old documents)", "#7f7f7f"),
                                 ("prevalence_after", "after (new run, every document)", "#1f77b4"),
                                 ("prevalence_new_docs", "new documents only", "#17becf")):
        fig.add_trace(go.Bar(x=table["topic"], y=table[column], name=name, marker_color=colour, customdata=names,
                             hovertemplate="%{customdata}: %{y:.3f}<extra>" + name + "</extra>"))
    fig.update_layout(height=320, margin=MARGIN, barmode="group", legend={"orientation": "h", "y": 1.15},
                      yaxis={"title": "prevalence (mean θ)"},
                      xaxis={"title": "topic", "dtick": 1 if len(table) <= 30 else None})
    return fig


# ---------------------------------------------------------------------------- one document or text
def mixture_figure(theta: np.ndarray, labels: list[str], n: int | None = None, colour: str = "#1f77b4",
                   x_title: str = "θ") -> go.Figure:
    """A topic mixture as horizontal bars, largest on top: the ``n`` largest topics (None: all)."""
    top = np.argsort(-theta, kind="stable")[:n][::-1]
    bar = 28 if len(top) <= 10 else 22
    fig = go.Figure(go.Bar(x=theta[top], y=[short_label(labels[k], 45) for k in top], orientation="h",
                           marker_color=colour, hovertemplate="%{y}: θ = %{x:.3f}<extra></extra>"))
    fig.update_layout(height=min(bar * len(top) + 60, 900), margin=MARGIN,
                      xaxis={"title": x_title, "range": [0, max(0.05, float(theta.max()) * 1.05)]})
    return fig


def sigma_figure(sigma: np.ndarray, labels: list[str] | None) -> go.Figure:
    """Posterior σ of each latent dimension (named by topic when there is one per topic)."""
    names = [labels[j] if labels else f"z{j}" for j in range(len(sigma))]
    fig = go.Figure(go.Bar(x=list(range(len(sigma))), y=sigma, marker_color="#9467bd", customdata=names,
                           hovertemplate="%{customdata}: σ = %{y:.3f}<extra></extra>"))
    fig.update_layout(height=220, margin=MARGIN, yaxis={"title": "posterior σ"},
                      xaxis={"title": "topic" if labels else "latent dimension",
                             "dtick": 1 if len(sigma) <= 25 else None})
    return fig


# ---------------------------------------------------------------------------- the document map
def map_figure(coords: np.ndarray, rows: np.ndarray, codes: np.ndarray, names: list[str],
               hover: np.ndarray, selected: int | None) -> go.Figure:
    """Documents ``rows`` as points coloured by category ``codes`` (indices into ``names``).

    Up to LEGEND_MAX categories get one trace each (and a legend); more share one trace
    and the colour key (:func:`colour_key`) is shown beside the map.
    """
    colours = np.array([PALETTE[i % len(PALETTE)] for i in range(len(names))], dtype=object)
    names_arr = np.array([html.escape(n) for n in names], dtype=object)
    fig = go.Figure()
    marker = {"size": 5, "opacity": 0.75}
    if len(names) <= LEGEND_MAX:
        for c, name in enumerate(names):
            r = rows[codes[rows] == c]
            if len(r):
                fig.add_scattergl(x=coords[r, 0], y=coords[r, 1], mode="markers", name=name, customdata=r,
                                  text=hover[r], marker={**marker, "color": colours[c]},
                                  hovertemplate="%{text}<extra>" + names_arr[c] + "</extra>")
    else:
        fig.add_scattergl(x=coords[rows, 0], y=coords[rows, 1], mode="markers", customdata=rows, showlegend=False,
                          text=hover[rows] + "<br><i>" + names_arr[codes[rows]] + "</i>",
                          marker={**marker, "color": colours[codes[rows]]}, hovertemplate="%{text}<extra></extra>")
    if selected is not None:
        fig.add_scatter(x=[coords[selected, 0]], y=[coords[selected, 1]], mode="markers", name="selected",
                        showlegend=len(names) <= LEGEND_MAX,
                        marker={"symbol": "star", "size": 18, "color": "black", "line": {"width": 1, "color": "white"}},
                        customdata=[selected], hovertemplate=f"<b>{hover[selected]}</b><extra>selected</extra>")
    fig.update_layout(height=620, margin=MARGIN, dragmode="pan",
                      xaxis={"showticklabels": False, "title": None}, yaxis={"showticklabels": False, "title": None},
                      legend={"font": {"size": 10}, "itemsizing": "constant"})
    return fig


def colour_key(names: list[str], counts: np.ndarray) -> str:
    """HTML chips naming the colour of each category (for maps with too many for a legend)."""
    chips = []
    for i, (name, n) in enumerate(zip(names, counts)):
        if n:
            chips.append(f'<span style="display:inline-block;margin:2px 10px 2px 0;font-size:0.8rem">'
                         f'<span style="display:inline-block;width:10px;height:10px;border-radius:5px;'
                         f'background:{PALETTE[i % len(PALETTE)]};margin-right:4px"></span>{html.escape(name)}</span>')
    return "<div>" + "".join(chips) + "</div>"


# ---------------------------------------------------------------------------- trends
def label_heatmap(table: pd.DataFrame, short: list[str]) -> go.Figure:
    """Mean θ of each label's documents (rows of ``table`` from prevalence_by_label) per topic."""
    K = len(short)
    values = table[list(range(K))].to_numpy()
    fig = px.imshow(values, x=[str(k) for k in range(K)],
                    y=[f"{short_label(str(l), 30)} ({n})" for l, n in zip(table.index, table["n_docs"])],
                    color_continuous_scale="Blues", aspect="auto",
                    labels={"x": "topic", "y": "label", "color": "mean θ"})
    fig.update_traces(customdata=np.tile(np.array(short, dtype=object), (len(table), 1)),
                      hovertemplate="%{y}<br>topic %{x}: %{customdata}<br>mean θ %{z:.3f}<extra></extra>")
    fig.update_layout(height=max(300, 22 * len(table) + 120), margin=MARGIN)
    return fig


def trend_lines(over: pd.DataFrame, chosen: list[int], short: list[str]) -> go.Figure:
    """Mean θ per period (``over`` from prevalence_over_time) of the ``chosen`` topics, one line each."""
    long = over[chosen].rename(columns={k: short[k] for k in chosen}).reset_index().melt(
        id_vars="period", var_name="topic", value_name="mean θ")
    fig = px.line(long, x="period", y="mean θ", color="topic", markers=True)
    fig.update_layout(height=420, margin=MARGIN, legend={"title": None})
    return fig
