"""Drift: how the topics of a run made by ``topicvae update`` moved from the run it continued."""

import streamlit as st

from topicvae.interfaces.app import common, figures
from topicvae.runs import update


def _updated_runs() -> list[str]:
    """The runs of the runs folder that carry a drift report."""
    _, runs = common.folders()
    return [s["name"] for s in common.run_summaries() if (runs / s["name"] / update.DRIFT_FILE).is_file()]


def _no_report(run) -> None:
    st.info(f"Run **{run.name}** was not made by `topicvae update`, so it has no drift report. Continue a run "
            "on new documents (read with its own vocabulary) to get one:")
    st.code(f"topicvae update {run.name} NEW_DOCUMENTS.csv --name {run.name}-updated", language="bash")
    others = _updated_runs()
    if others:
        st.markdown("Runs with a drift report (pick one in the sidebar): " + ", ".join(f"`{n}`" for n in others))


def _summary(run, drift: dict) -> None:
    s, u = drift["summary"], run.config.get("update") or {}
    replay = f", {u['replayed_documents']:,} old documents replayed" if u.get("replayed_documents") else ""
    st.caption(f"**{common.md_escape(run.name)}** continued **{common.md_escape(s['source_run'])}** for "
               f"{run.config.get('epochs')} epochs on {u.get('new_documents', 0):,} new documents{replay}. "
               f"Topics are matched one-to-one to the old ones (Hungarian matching on Jensen–Shannon distance, "
               f"0 = identical, 1 = disjoint); a topic farther than {s['threshold']:g} from every old topic is new.")
    c = st.columns(4)
    c[0].metric("Topics kept (own id)", f"{s['matched_same_id']} of {s['n_topics']}")
    c[1].metric("Matched within JS " + f"{s['threshold']:g}", f"{s['matched']} of {s['n_topics']}")
    c[2].metric("New topics", len(s["new"]))
    c[3].metric("Mean JS distance", f"{s['mean_js']:.3f}")
    if u.get("tokens"):
        st.caption(f"{u['unknown_tokens']:,} of {u['tokens']:,} tokens of the new documents "
                   f"({common.percent(u['unknown_tokens'] / u['tokens'])}) were not in the vocabulary.")
    if s["gone"]:
        st.caption("Old topics without a close new topic: " + ", ".join(map(str, s["gone"])))


def page() -> None:
    """The Drift page: the summary, the distance and prevalence charts, and the per-topic table."""
    run = common.pick_run("drift")
    st.title("Topic drift")
    drift = update.read_drift(run)
    if drift is None:
        _no_report(run)
        return
    _summary(run, drift)
    labels = common.labels(run)
    table = update.drift_table(drift)
    st.subheader("Distance from the old topics")
    st.plotly_chart(figures.drift_figure(table, labels, drift["summary"]["threshold"]), width="stretch",
                    config={"displayModeBar": False}, key="drift_distance")
    st.subheader("Prevalence before and after")
    st.plotly_chart(figures.prevalence_shift_figure(table, labels), width="stretch",
                    config={"displayModeBar": False}, key="drift_prevalence")
    st.subheader("Per topic, the largest changes first")
    shown = table.assign(label=[labels[k] for k in table["topic"]])[
        ["topic", "label", "status", "matched_old", "js_distance", "js_same_id", "prevalence_before",
         "prevalence_after", "prevalence_new_docs", "words", "old_words"]]
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "matched_old": st.column_config.NumberColumn("old topic", help="the old topic it is matched to"),
        "js_distance": st.column_config.ProgressColumn("JS distance", format="%.3f", min_value=0.0, max_value=1.0),
        "js_same_id": st.column_config.NumberColumn("JS to old topic of its id", format="%.3f"),
        "prevalence_before": st.column_config.NumberColumn("before", format="%.3f",
                                                           help="mean θ under the old run, old documents"),
        "prevalence_after": st.column_config.NumberColumn("after", format="%.3f",
                                                          help="mean θ under this run, every document"),
        "prevalence_new_docs": st.column_config.NumberColumn("new documents", format="%.3f",
                                                             help="mean θ under this run, the new documents"),
        "words": "top words now", "old_words": "top words of the old topic"})


common.render(page)
