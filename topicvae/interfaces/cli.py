"""The ``topicvae`` command line: thin commands over the package's public API.

Each command parses its arguments and calls one plain function; errors a user can
fix print one line (``error: ...``) and exit with status 2. Heavy libraries load
inside the commands, so ``topicvae --help`` is quick.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from topicvae import __version__
from topicvae.errors import TopicVAEError
from topicvae.models.settings import SETTINGS, flag_help

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command whose reader went away (SIGPIPE)



# ------------------------------------------------------------------ helpers
def _number(text: str) -> float | int:
    """'5' → 5 (a count), '0.01' → 0.01 (a fraction)."""
    try:
        return int(text)
    except ValueError:
        return _finite(text)


def _finite(text: str) -> float:
    """A number that is not inf or nan (no setting of topicvae has a use for them)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _whole(minimum: int, maximum: int | None = None, why: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum`` (and at most ``maximum``; ``why`` says why)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            span = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"must be {span}{why}, got {value}")
        return value
    return parse


def _human(n: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.1f}{unit}"
    return f"{n:g}"


def _table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A plain text table with aligned columns."""
    if not rows:
        return ""
    columns = columns or list(rows[0])
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])


def _add_corpora_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpora-dir", metavar="DIR",
                   help="folder of corpora (default: $TOPICVAE_CORPORA_DIR or ./corpora)")


def _add_runs_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs-dir", metavar="DIR", help="folder of runs (default: $TOPICVAE_RUNS_DIR or ./runs)")


# ------------------------------------------------------------------ ingest
def _add_source_args(p: argparse.ArgumentParser) -> None:
    """--format and the table-column options of a source of documents (ingest, update)."""
    p.add_argument("--format", dest="fmt",
                   choices=["csv", "tsv", "jsonl", "parquet", "octis", "folder", "archive", "builtin"],
                   help="source format (default: detected from the path; a folder with corpus.tsv, or a .tsv "
                        "of text<TAB>train|val|test<TAB>label rows, is octis)")
    g = p.add_argument_group("table columns (csv, tsv, jsonl, parquet)",
                             "Other columns are kept as metadata. A column is a name from the header row, even "
                             "when it looks like a number; with --no-header it is a position, 0 for the first.")
    g.add_argument("--no-header", action="store_true",
                   help="the CSV/TSV has no header row: name columns by position (--text-col 0 --label-col 2)")
    g.add_argument("--text-col", default="text", help="column with the document text (default: text)")
    g.add_argument("--id-col", help="column with a unique document id (default: row number)")
    g.add_argument("--label-col", help="column with a class label")
    g.add_argument("--date-col", help="column with a date")
    g.add_argument("--split-col", help="column naming the split (train/test) of each row")
    _add_quoting_arg(g)


def _add_quoting_arg(p) -> None:
    p.add_argument("--quoting", choices=["auto", "csv", "none"], default="auto",
                   help="CSV/TSV quotes: csv (a field opening with \" runs to its closing quote, line breaks "
                        "included), none (quotes are text, one row per line), auto (csv, unless that would join "
                        "lines of a file with one row per line; the default)")


def _table_columns(args):
    """The TableColumns the options of :func:`_add_source_args` name."""
    from topicvae.text.sources import TableColumns

    return TableColumns(text=args.text_col, id=args.id_col, label=args.label_col, date=args.date_col,
                        split=args.split_col, header=not args.no_header, quoting=args.quoting)


def _add_ingest_args(p: argparse.ArgumentParser) -> None:
    from topicvae.text.settings import PreprocessSettings, VocabSettings

    pre, voc = PreprocessSettings(), VocabSettings()
    p.add_argument("source", help="a .csv/.tsv/.jsonl/.parquet file, a folder of .txt files, "
                                  "a .tar.gz/.zip archive of folders, an OCTIS dataset folder "
                                  "(corpus.tsv) or its .tsv, or builtin:sample")
    p.add_argument("--name", help="corpus name (default: from the source's file name)")
    _add_source_args(p)
    g = p.add_argument_group("preprocessing")
    g.add_argument("--strip", default="", metavar="PARTS",
                   help="mail/newsgroup parts to remove, comma-separated: headers,quotes,signatures")
    from topicvae.text.languages import supported_languages

    g.add_argument("--language", dest="lang", metavar="CODE", default=pre.lang,
                   help=f"spaCy language code of the tokenizer, stop words and lemmas (default: {pre.lang}; "
                        f"supported: {' '.join(supported_languages())}; others with --no-lemmatize)")
    g.add_argument("--stopwords", metavar="FILE", help="extra stop words, one per line")
    g.add_argument("--no-stopwords", action="store_true", help="keep spaCy's stop words")
    g.add_argument("--no-lemmatize", action="store_true", help="keep word forms as they are")
    g.add_argument("--min-token-len", type=int, default=pre.min_token_len,
                   help=f"shortest token kept (default: {pre.min_token_len})")
    g.add_argument("--keep-alnum", action="store_true", help="keep tokens mixing letters and digits (mp3, x11)")
    g.add_argument("--keep-encoded", action="store_true",
                   help="keep lines of encoded binary (uuencode, base64), dropped by default")
    g.add_argument("--phrases", action="store_true", help="join frequent word pairs (new_york) with gensim Phrases")
    g = p.add_argument_group("vocabulary and documents")
    g.add_argument("--min-df", type=_number, default=voc.min_df,
                   help=f"keep words in at least this many documents, or this fraction if < 1 (default: {voc.min_df})")
    g.add_argument("--max-df", type=_number, default=voc.max_df,
                   help=f"drop words in more than this fraction of documents (default: {voc.max_df})")
    g.add_argument("--max-vocab", type=int, default=voc.max_vocab,
                   help=f"keep the N most frequent words, 0 for no limit (default: {voc.max_vocab})")
    g.add_argument("--min-tokens", type=int, default=voc.min_tokens,
                   help=f"drop documents with fewer in-vocabulary tokens (default: {voc.min_tokens})")
    g = p.add_argument_group("running")
    g.add_argument("--workers", "--n-process", dest="workers", type=_whole(1), default=1, metavar="N",
                   help="processes that tokenize: 1 in this process (the default), more on a local Dask cluster "
                        "started for the ingest (--n-process is the older name)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="tokenize on the workers of a running Dask cluster (tcp://HOST:8786; see `dask scheduler`, "
                        "`dask worker`); this machine reads the source and writes the corpus")
    g.add_argument("--partition-docs", type=_whole(1), default=None, metavar="N",
                   help="documents read and tokenized at a time (one task of a worker); memory follows it "
                        "(default: 20,000)")
    g.add_argument("--shard-docs", type=_whole(1), default=None,
                   help="the most documents in one file of the bag-of-words; a larger corpus is written in "
                        "shards (default: 100,000)")
    g.add_argument("--dedupe", action="store_true", help="keep the first of documents sharing an id (default: fail)")
    g.add_argument("--force", action="store_true", help="replace an existing corpus of the same name")
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def _default_name(source: str) -> str:
    import re

    if source.startswith("builtin:"):
        return source.split(":", 1)[1]
    path = Path(source.rstrip("/"))
    # an OCTIS dataset's file is always corpus.tsv: the dataset is named by its folder
    base = path.parent.name if path.name == "corpus.tsv" and path.parent.name else path.name
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip", ".csv", ".tsv", ".jsonl",
                   ".ndjson", ".json", ".parquet", ".pq"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.") or "corpus"


def cmd_ingest(args) -> int:
    from topicvae.corpus.ingestion import ingest, read_stopwords
    from topicvae.text.settings import PreprocessSettings, VocabSettings

    pre = PreprocessSettings(
        strip=tuple(p.strip() for p in args.strip.split(",") if p.strip()),
        drop_encoded=not args.keep_encoded,
        lemmatize=not args.no_lemmatize,
        stopwords=not args.no_stopwords,
        extra_stopwords=tuple(read_stopwords(args.stopwords)) if args.stopwords else (),
        min_token_len=args.min_token_len,
        keep_alnum=args.keep_alnum,
        lang=args.lang,
    )
    voc = VocabSettings(min_df=args.min_df, max_df=args.max_df, max_vocab=args.max_vocab or None,
                        min_tokens=args.min_tokens, phrases=args.phrases)
    cols = _table_columns(args)
    name = _default_name(args.source) if args.name is None else args.name
    corpus = ingest(args.source, name, fmt=args.fmt, columns=cols, preprocess=pre, vocab=voc,
                    corpora_dir=args.corpora_dir, force=args.force, dedupe=args.dedupe,
                    workers=args.workers, scheduler=args.scheduler, progress=not args.quiet,
                    **({"shard_docs": args.shard_docs} if args.shard_docs else {}),
                    **({"partition_docs": args.partition_docs} if args.partition_docs else {}))
    print(describe_ingest(corpus))
    return 0


def _read_notes(counts: dict) -> list[str]:
    """Summary lines on how the source was read: its files skipped by reason, a CSV/TSV's quoting."""
    lines = []
    skipped = counts.get("skipped_files") or {}
    if skipped:
        lines.append(f"  {sum(skipped.values()):,} file(s) of the source not read: "
                     + ", ".join(f"{n:,} {reason}" for reason, n in skipped.items()))
    if counts.get("quoting") == "none":
        lines.append("  read one row per line, quotes as text (--quoting none)")
    elif counts.get("quoting") == "csv":
        spanning = counts.get("rows_over_lines", 0)
        lines.append("  read with quoted fields (--quoting csv)" + (
            f": {spanning:,} rows span several lines; if the file does not quote its fields, "
            "ingest it with --quoting none" if spanning else ""))
    return lines


def describe_ingest(corpus) -> str:
    c = corpus.manifest["counts"]
    drops = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in c["dropped"].items() if v) or "none dropped"
    splits = ", ".join(f"{v:,} {k}" for k, v in c["splits"].items())
    lines = [
        f"corpus {corpus.name!r}: {c['kept']:,} documents kept of {c['read']:,} read ({drops})",
        f"  {c['vocabulary']:,} words, {_human(c['tokens'])} tokens, {c['labels']} labels"
        + (f", splits: {splits}" if splits else ""),
    ]
    lines.extend(_read_notes(c))
    if c.get("bad_utf8"):
        lines.append(f"  {c['bad_utf8']:,} documents had bytes that are not UTF-8 (replaced with U+FFFD)")
    if c.get("encoded_lines_dropped"):
        lines.append(f"  {c['encoded_lines_dropped']:,} lines of encoded binary dropped "
                     f"from {c['docs_with_encoded_lines']:,} documents")
    shards = len(corpus.manifest.get("shards") or ())
    lines.append(f"  saved to {corpus.path}" + (f" in {shards:,} shards" if shards > 1 else "")
                 + f" in {corpus.manifest['seconds']:.1f} s")
    return "\n".join(lines)


# ------------------------------------------------------------------ corpora, corpus-info
def cmd_corpora(args) -> int:
    from topicvae.corpus import list_corpora, read_manifest
    from topicvae.paths import corpora_dir

    names = list_corpora(args.corpora_dir)
    if not names:
        print(f"no corpora in {corpora_dir(args.corpora_dir)}; make one with: topicvae ingest builtin:sample")
        return 0
    rows, damaged = [], []
    for n in names:
        try:
            rows.append(_corpus_row(n, read_manifest(n, args.corpora_dir)))
        except TopicVAEError:  # one bad corpus must not hide the others
            damaged.append(n)
    if rows:
        print(_table(rows))
    for n in damaged:
        print(f"warning: corpus {n!r} is damaged; `topicvae verify {n}` says what is wrong", file=sys.stderr)
    return 0


def _corpus_row(name: str, manifest: dict) -> dict:
    """The ``corpora`` table row of a manifest ('-' for what a library-made manifest lacks)."""
    c = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
    source = manifest.get("source") if isinstance(manifest.get("source"), dict) else {}

    def count(key, fmt=lambda v: f"{v:,}"):
        v = c.get(key)
        return fmt(v) if isinstance(v, (int, float)) else "-"

    splits = c.get("splits") if isinstance(c.get("splits"), dict) else {}
    return {"name": name, "documents": count("kept"), "words": count("vocabulary"),
            "tokens": count("tokens", _human), "labels": count("labels", str),
            "splits": ",".join(f"{k}:{v}" for k, v in splits.items()) or "-", "source": source.get("path", "-")}


def _args_corpus_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="corpus name")
    p.add_argument("--top-words", type=int, default=30, help="how many top words to show (default: 30)")


def cmd_corpus_info(args) -> int:
    from topicvae.corpus import Corpus
    from topicvae.corpus.report import corpus_report

    print(corpus_report(Corpus.load(args.name, args.corpora_dir), top_words=args.top_words))
    return 0


# ------------------------------------------------------------------ quickstart
def _args_quickstart(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", default="sample",
                   help="name of the sample corpus; the run is NAME-prodlda-kK (default: sample)")
    p.add_argument("--topics", type=_whole(2), default=20, help="number of topics (default: 20)")
    p.add_argument("--epochs", type=_setting_type("epochs"), default=None,
                   help="training epochs (default: ProdLDA's own, see topicvae train --help)")
    p.add_argument("--out", default="exports", help="folder for the exported CSV files (default: ./exports)")
    p.add_argument("--force", action="store_true",
                   help="replace a corpus, run or exported files of the quickstart's names (default: refuse)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


@dataclass
class _QuickstartPlan:
    """What a quickstart makes and what it takes up from an earlier, interrupted quickstart."""

    run: str
    docs_csv: Path
    topics_csv: Path
    reuse_corpus: bool = False  # the corpus an earlier quickstart ingested from builtin:sample
    run_state: str = "nothing"  # runs.NOTHING: train; RESUMABLE: continue its checkpoint; COMPLETE: use it


def _quickstart_plan(args) -> _QuickstartPlan:
    """The names, files and steps of a quickstart, once its names and folders are checked; it touches
    nothing before.

    Without ``--force`` it replaces nothing: the corpus and run an earlier quickstart of the same name
    and K left (it was interrupted, or its exports were moved) are taken up where they stand (the
    corpus if ingested from builtin:sample, the run if trained on it with K topics, its checkpoint
    continued); anything else of those names is refused, and so are existing export files.
    """
    from topicvae.errors import ConfigError
    from topicvae.paths import check_name, check_output_path, corpora_dir, runs_dir, workspace_folders
    from topicvae.runs import NOTHING, RESUMABLE, checkpoint_problem, default_run_name, run_state

    check_name(args.name, "corpus name")
    run = check_name(default_run_name(args.name, "prodlda", args.topics), "run name")
    out = Path(args.out)
    plan = _QuickstartPlan(run, out / f"{run}-documents.csv", out / f"{run}-topics.csv")
    for file in (plan.docs_csv, plan.topics_csv):
        check_output_path(file, workspace_folders(args.corpora_dir, args.runs_dir), new_folders=True)
    if args.force:
        return plan
    corpus_path, run_path = corpora_dir(args.corpora_dir) / args.name, runs_dir(args.runs_dir) / run
    there = []
    if corpus_path.exists():
        plan.reuse_corpus = _made_by_quickstart_corpus(args)
        there += [] if plan.reuse_corpus else [f"corpus {args.name!r} ({corpus_path})"]
    state = run_state(args.runs_dir, run)
    if run_path.exists() or state != NOTHING:
        ours = plan.reuse_corpus and _made_by_quickstart_run(args, run, state)
        plan.run_state = state if ours else NOTHING
        if plan.run_state == RESUMABLE and checkpoint_problem(runs_dir(args.runs_dir), run):
            plan.run_state = NOTHING  # a checkpoint that cannot be read: training starts over in its place
        there += [] if ours else [f"run {run!r} ({run_path})"]
    there += [str(f) for f in (plan.docs_csv, plan.topics_csv) if f.exists()]
    if there:
        raise ConfigError(f"quickstart would replace {', '.join(there)}; pass --force to replace "
                          f"{'it' if len(there) == 1 else 'them'}, or --name NAME for a corpus and run of another name")
    return plan


def _made_by_quickstart_corpus(args) -> bool:
    """Whether corpus ``args.name`` is the built-in sample as quickstart ingests it (an earlier quickstart's)."""
    from topicvae.corpus import read_manifest
    from topicvae.errors import TopicVAEError

    try:
        return read_manifest(args.name, args.corpora_dir).get("source", {}).get("path") == "builtin:sample"
    except (TopicVAEError, AttributeError):
        return False


def _made_by_quickstart_run(args, run: str, state: str) -> bool:
    """Whether run ``run`` (in ``state``) is quickstart's: ProdLDA with ``args.topics`` topics on corpus
    ``args.name`` and the epochs asked for now (``args.epochs``; None: automatic), complete or with a
    checkpoint to continue."""
    from topicvae.errors import TopicVAEError
    from topicvae.paths import runs_dir
    from topicvae.runs import COMPLETE, RESUMABLE, Run, checkpoint_meta

    try:
        if state == COMPLETE:
            config = Run.load(run, args.runs_dir).config
        elif state == RESUMABLE:
            config = checkpoint_meta(runs_dir(args.runs_dir), run) or {}
            config = {**config, "n_topics": config.get("n_topics", config.get("params", {}).get("n_topics"))}
        else:
            return False
    except TopicVAEError:
        return False
    return (config.get("model") == "prodlda" and config.get("n_topics") == args.topics
            and config.get("corpus") == args.name and (config.get("params") or {}).get("epochs") == args.epochs)


def cmd_quickstart(args) -> int:
    from topicvae.analysis.export import export_run
    from topicvae.analysis.run_metrics import evaluate_run, format_metrics
    from topicvae.corpus import Corpus
    from topicvae.corpus.ingestion import ingest
    from topicvae.runs import COMPLETE, RESUMABLE, Run, format_topics, train_run

    plan = _quickstart_plan(args)
    quiet = args.quiet
    if plan.reuse_corpus:
        print(f"1/4 using corpus {args.name!r}, the built-in sample an earlier quickstart ingested")
        corpus = Corpus.load(args.name, args.corpora_dir)
    else:
        print("1/4 ingesting the built-in sample (Lee news articles + Wikipedia sections shipped with gensim)")
        corpus = ingest("builtin:sample", args.name, corpora_dir=args.corpora_dir, force=args.force, progress=not quiet)
        print(describe_ingest(corpus))
    if plan.run_state == COMPLETE:
        print(f"\n2/4 using run {plan.run!r}, trained by an earlier quickstart")
        run = Run.load(plan.run, args.runs_dir)
    else:
        resume = plan.run_state == RESUMABLE
        print(f"\n2/4 training ProdLDA with {args.topics} topics"
              + (" (continuing an earlier quickstart's checkpoint)" if resume else ""))
        epochs = {"epochs": args.epochs} if args.epochs is not None else {}
        run = train_run(corpus, "prodlda", args.topics, name=plan.run, runs_dir=args.runs_dir, force=args.force,
                        resume=resume, progress=not quiet, seed=0, **epochs)
    print(format_topics(run, 8))
    print("\n3/4 evaluating")
    print(format_metrics(evaluate_run(run, corpora_dir=args.corpora_dir)))
    print("\n4/4 exporting")
    docs_csv, topics_csv = plan.docs_csv, plan.topics_csv
    docs_csv.parent.mkdir(parents=True, exist_ok=True)
    export_run(run, docs_csv, args.corpora_dir, topics_out=topics_csv)
    dirs = "".join(f" --{flag} {value}" for flag, value in (("corpora-dir", args.corpora_dir),
                                                             ("runs-dir", args.runs_dir)) if value)
    print(f"""
done. What landed where:
  corpus             {corpus.path}/
  trained run        {run.path}/  (config, weights, topics.csv, doc_topic.npy, metrics.json)
  document vectors   {docs_csv}
  topic table        {topics_csv}
next:
  topicvae app{dirs}                       explore topics and documents in the browser
  topicvae ingest YOUR_FILE.csv --name mine      bring your own documents""")
    return 0


# ------------------------------------------------------------------ train, topics, runs
def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _setting_type(name: str) -> Callable[[str], object]:
    """An argparse type reading model setting ``name``'s flag as its declaration does
    (:mod:`topicvae.models.settings`), with the declaration's one-line reason on bad input."""
    setting = SETTINGS[name]

    def read(text: str):
        try:
            return setting.read(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    read.__name__ = name
    return read


#: the model settings ``topicvae train`` has a flag for (only flags the user gives are passed on)
TRAIN_FLAGS = tuple(name for name, setting in SETTINGS.items() if setting.flag)


def _add_setting_flags(group, names, defaults: bool = True) -> None:
    """The flags of the settings ``names``; their help says each one's models and default (``defaults``),
    or only what it does where the defaults come from elsewhere (update: the source run's)."""
    for name in names:
        group.add_argument(SETTINGS[name].option, dest=name, type=_setting_type(name), default=None,
                           help=flag_help(SETTINGS[name]) if defaults else SETTINGS[name].help)


def _add_train_flags(p: argparse.ArgumentParser) -> None:
    _add_setting_flags(p.add_argument_group("model settings (docs/settings.md)"), TRAIN_FLAGS)


def _train_params(args, model: str | None = None) -> dict:
    """The model settings given as flags; with ``model``, checked to be that model's (one line
    naming the flag and the models it is for, otherwise)."""
    from topicvae.runs import check_settings

    params = {k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k, None) is not None}
    if "hidden" in params:
        params["hidden"] = tuple(params["hidden"])
    if model is not None:
        check_settings(model, params, flag=lambda key: SETTINGS[key].option)
    return params


def _args_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", help="corpus name (see: topicvae corpora)")
    p.add_argument("--model", default="prodlda",
                   help="prodlda (default; Dirichlet-like prior, the most coherent topics), gsm (the "
                        "standard normal prior with ProdLDA's decoder: use it when you want a Gaussian "
                        "prior), nvdm (Gaussian prior, z is not a topic mixture and its topics are weak), "
                        "or lda (gensim)")
    p.add_argument("--topics", type=int, default=20, help="number of topics K (default: 20)")
    p.add_argument("--name", help="run name (default: CORPUS-MODEL-kK)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its checkpoint")
    p.add_argument("--force", action="store_true", help="replace an existing run of the same name")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--seed-topics", metavar="FILE",
                   help="guided topics: a text file, one topic a line, 'name: word word word'; topics 0, 1, ... "
                        "lean on those words and keep the name as label, the rest are learned freely (prodlda, gsm, lda)")
    _add_train_flags(p)


def cmd_train(args) -> int:
    from functools import partial

    from topicvae.corpus import Corpus
    from topicvae.runs import default_run_name, format_topics, train_guided_run, train_run

    params = _train_params(args, args.model)
    corpus = Corpus.load(args.corpus, args.corpora_dir)
    train = partial(train_guided_run, seed_file=args.seed_topics) if args.seed_topics else train_run
    try:
        run = train(corpus, args.model, args.topics, name=args.name, runs_dir=args.runs_dir, force=args.force,
                    resume=args.resume, progress=not args.quiet, **params)
    except KeyboardInterrupt:
        name = default_run_name(corpus.name, args.model, args.topics) if args.name is None else args.name
        print(_interrupted_hint(name, args), file=sys.stderr)
        return EXIT_INTERRUPTED
    if run is None:  # a helper process of data-parallel training: rank 0 reports
        return 0
    s = run.summary()
    extra = f", best epoch {run.config['best_epoch']}" if run.config.get("best_epoch") else ""
    print(f"run {run.name!r}: {s['model']}, {s['n_topics']} topics, {s['epochs']} epochs{extra}, "
          f"{s['fit_seconds']:.1f} s of training -> {run.path}")
    print(format_topics(run, 8).split("\n", 1)[1])
    print(f"\nnext: topicvae evaluate {run.name}   |   topicvae export {run.name} --out {run.name}.csv")
    return 0


def _interrupted_hint(name: str, args) -> str:
    """What to do after Ctrl-C in ``train``: the command that continues, or that nothing was saved."""
    import shlex

    from topicvae.runs import RESUMABLE, model_class, run_state

    if run_state(args.runs_dir, name) == RESUMABLE:
        again = [a for a in args.argv if a != "--force"] + ([] if "--resume" in args.argv else ["--resume"])
        return f"training of run {name!r} stopped; continue it with: topicvae {shlex.join(again)}"
    if not model_class(args.model).supports_resume:  # (LDA: gensim's passes are not checkpointed)
        return f"training of run {name!r} stopped; {args.model} keeps no checkpoint, so nothing was saved"
    return f"training of run {name!r} stopped before its first epoch ended; nothing was saved"


def _add_representation_flag(p: argparse.ArgumentParser) -> None:
    from topicvae.scoring.representation import DEFAULT, methods

    p.add_argument("--representation", default=DEFAULT, choices=methods(),
                   help=f"how each topic's words are ranked (the topics themselves do not change): "
                        f"{', '.join(methods())} (default: {DEFAULT}; see docs/metrics.md)")


def _args_topics(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run name (see: topicvae runs)")
    p.add_argument("--words", type=_whole(1), default=10, help="words per topic (default: 10)")
    _add_representation_flag(p)


def _represented_words(run, args, n: int) -> tuple[list[list[str]], str]:
    """The first ``n`` words of each of ``run``'s topics in ``args.representation``, and the representation
    used: ``probability`` when the one asked for needs the run's training documents and its corpus is
    gone (said in a note on stderr)."""
    from topicvae.analysis.topics import readable_representation, represented_words
    from topicvae.errors import RunError
    from topicvae.runs.workspace import run_corpus

    try:
        corpus = run_corpus(run, args.corpora_dir)
    except RunError as exc:
        corpus, reason = None, exc  # representations that need no documents still work
    method = readable_representation(args.representation, corpus)
    if method != args.representation:
        print(f"note: {reason}; the words of {run.name} are listed by {method} instead of {args.representation}",
              file=sys.stderr)
    return represented_words(run, corpus, method, n), method


def cmd_topics(args) -> int:
    from topicvae.runs import Run, format_topics
    from topicvae.scoring.representation import describe

    run = Run.load(args.run, args.runs_dir)
    words, method = _represented_words(run, args, args.words)
    print(format_topics(run, args.words, words, describe(method)))
    return 0


def cmd_runs(args) -> int:
    from topicvae.paths import runs_dir
    from topicvae.runs import list_runs, unfinished_runs

    rows, unfinished = list_runs(args.runs_dir), unfinished_runs(args.runs_dir)
    if not rows and not unfinished:
        print(f"no runs in {runs_dir(args.runs_dir)}; train one with: topicvae train CORPUS --model prodlda --topics 20")
        return 0
    fmt = lambda v, f: "-" if v is None else f.format(v)  # noqa: E731
    if rows:
        print(_table([{"name": r["name"], "corpus": r["corpus"], "model": r["model"], "K": r["n_topics"],
                       "epochs": r["epochs"], "train loss": fmt(r["train_loss"], "{:.1f}"),
                       "val loss": fmt(r["val_loss"], "{:.1f}"), "train s": fmt(r["fit_seconds"], "{:.1f}")}
                      for r in rows]))
    for name in unfinished:
        print(f"unfinished: {name} (training stopped; continue it with the same train command plus --resume)")
    return 0


# ------------------------------------------------------------------ evaluate, compare, stability, sweep
def _args_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run name")
    p.add_argument("--reference", default="test",
                   help="documents for NPMI and C_v: test (default; held out), train, or a corpus name")
    p.add_argument("--no-c-v", action="store_true", help="skip C_v (it re-tokenizes the reference texts)")
    _add_representation_flag(p)


def cmd_evaluate(args) -> int:
    from topicvae.analysis.run_metrics import evaluate_run, format_metrics
    from topicvae.runs import Run

    run = Run.load(args.run, args.runs_dir)
    metrics = evaluate_run(run, reference=args.reference, corpora_dir=args.corpora_dir, with_c_v=not args.no_c_v,
                           representation=args.representation)
    print(format_metrics(metrics))
    print(f"  written to {run.path / 'metrics.json'}")
    return 0


def _args_compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", help="two or more run names")
    p.add_argument("--format", choices=["markdown", "csv", "json"], default="markdown",
                   help="output format of the metric table (default: markdown)")
    p.add_argument("--words", type=_whole(1), default=8, help="words per topic in the alignment (default: 8)")
    _add_representation_flag(p)


def cmd_compare(args) -> int:
    from topicvae.analysis.compare import align_runs, metrics_table
    from topicvae.analysis.run_metrics import evaluate_run, read_metrics
    from topicvae.errors import ConfigError
    from topicvae.runs import Run
    from topicvae.scoring.representation import describe

    if len(args.runs) < 2:
        raise ConfigError(f"compare needs two or more runs, got {len(args.runs)}; e.g. topicvae compare "
                          f"{args.runs[0]} OTHER-RUN")
    runs = [Run.load(n, args.runs_dir) for n in args.runs]
    rows = [read_metrics(r) or evaluate_run(r, corpora_dir=args.corpora_dir, with_c_v=False) for r in runs]
    table = metrics_table(rows)
    if args.format == "csv":
        print(table.to_csv(index=False), end="")
    elif args.format == "json":
        print(table.to_json(orient="records", indent=1))
    else:
        print(_markdown(table))
    if len(runs) == 2 and args.format == "markdown":
        try:
            shown = [_represented_words(run, args, args.words) for run in runs]
            aligned = align_runs(runs[0], runs[1], n_words=args.words, words=(shown[0][0], shown[1][0]))
        except ConfigError as exc:
            print(f"\ntopic alignment refused: {exc}")
        else:
            methods = dict.fromkeys(method for _, method in shown)  # (one, unless a corpus is gone)
            print("\naligned topics (Hungarian matching on Jensen-Shannon distance; 0 = identical, 1 = disjoint; "
                  f"words by {' and '.join(describe(m) for m in methods)})\n")
            aligned.columns = [f"{runs[0].name} topic", f"{runs[0].name} words", f"{runs[1].name} topic",
                               f"{runs[1].name} words", "JS distance"]
            print(_markdown(aligned))
    return 0


def _markdown(df) -> str:
    def cell(v):
        if v is None or (isinstance(v, float) and v != v):
            return "-"
        if isinstance(v, float):
            return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v).replace("|", "/")
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _args_stability(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", help="corpus name")
    p.add_argument("--model", default="prodlda", help="prodlda (default), nvdm, gsm or lda")
    p.add_argument("--topics", type=int, default=20, help="number of topics K (default: 20)")
    p.add_argument("--seeds", type=_whole(2, why=" (topics are compared between seeds)"), default=3,
                   help="how many seeds: --seed, --seed + 1, ... (default: 3, the seeds 0, 1 and 2)")
    p.add_argument("--force", action="store_true", help="train again runs that already exist")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_train_flags(p)


def cmd_stability(args) -> int:
    from topicvae.analysis.experiments import stability_runs
    from topicvae.corpus import Corpus

    corpus = Corpus.load(args.corpus, args.corpora_dir)
    params = _train_params(args, args.model)
    first = params.pop("seed", 0)
    seeds = list(range(first, first + args.seeds))
    score, runs = stability_runs(corpus, args.model, args.topics, seeds, runs_dir=args.runs_dir, force=args.force,
                                 progress=not args.quiet, **params)
    print(f"stability of {args.model}, K={args.topics}, on {corpus.name} over seeds {seeds}: {score:.4f}")
    print("  (mean similarity 1 - Jensen-Shannon distance of topics matched one-to-one between every pair of seeds; "
          "1 = the same topics every time)")
    print("  runs: " + ", ".join(r.name for r in runs))
    return 0


def _args_sweep(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", help="corpus name")
    p.add_argument("--models", default="prodlda,lda", help="comma-separated models (default: prodlda,lda)")
    p.add_argument("--topics", type=_ints, default=[10, 20, 50], help="comma-separated K values (default: 10,20,50)")
    p.add_argument("--out", default="sweep", help="folder for sweep.csv and sweep.png (default: ./sweep)")
    p.add_argument("--reference", default="test", help="test (default), train or a corpus name")
    p.add_argument("--force", action="store_true", help="train again runs that already exist")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_train_flags(p)


def cmd_sweep(args) -> int:
    from topicvae.analysis.experiments import sweep
    from topicvae.analysis.plotting import plot_sweep
    from topicvae.corpus import Corpus
    from topicvae.paths import check_output_path

    out = Path(args.out)
    check_output_path(out / "sweep.csv", new_folders=True)  # (made once the sweep is done: a refusal leaves none)
    corpus = Corpus.load(args.corpus, args.corpora_dir)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    table = sweep(corpus, models, args.topics, runs_dir=args.runs_dir, corpora_dir=args.corpora_dir,
                  reference=args.reference, force=args.force, progress=not args.quiet, **_train_params(args))
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "sweep.csv", index=False)
    png = plot_sweep(table, out / "sweep.png")
    print(_markdown(table.drop(columns=["corpus"])))
    print(f"\ntable: {out / 'sweep.csv'}\nplot:  {png}")
    return 0


# ------------------------------------------------------------------ export, infer
def _args_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run name")
    p.add_argument("--out", required=True, help="output file: .csv, or .parquet")
    p.add_argument("--with-uncertainty", action="store_true",
                   help="add the posterior mean and sd of each latent dimension and the entropy of θ (VAE)")
    p.add_argument("--topics-out", help="also write the topic table (topic, label, representation, rank, word, "
                                        "weight: the model's own p(word | topic))")
    _add_representation_flag(p)


def cmd_export(args) -> int:
    from topicvae.analysis.export import export_run
    from topicvae.runs import Run
    from topicvae.scoring.representation import describe

    run = Run.load(args.run, args.runs_dir)
    n = export_run(run, args.out, args.corpora_dir, args.with_uncertainty, args.topics_out, args.representation)
    print(f"wrote {n:,} documents x {run.n_topics} topics to {args.out}")
    if args.topics_out:
        print(f"wrote the topic table to {args.topics_out} (words ranked by {describe(args.representation)})")
    return 0


def _args_infer(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run name")
    p.add_argument("file", help="new documents, in any format ingest reads")
    p.add_argument("--out", required=True, help="output file: .csv or .parquet")
    p.add_argument("--with-uncertainty", action="store_true", help="add μ, σ and θ entropy (VAE)")
    _add_source_args(p)


def cmd_infer(args) -> int:
    from topicvae.runs import Run
    from topicvae.runs.inference import infer_file

    run = Run.load(args.run, args.runs_dir)
    done = infer_file(run, args.file, args.out, fmt=args.fmt, corpora_dir=args.corpora_dir,  # (a chunk at a time)
                      columns=_table_columns(args), with_uncertainty=args.with_uncertainty)
    print(f"wrote {done.n_docs:,} documents to {args.out}; {done.n_unknown:,} of {done.n_tokens:,} "
          f"tokens were not among the words the model reads" + (
              f"; {done.n_unknown_docs} documents had none of them (their θ is the model's mixture for an "
              "empty document)" if done.n_unknown_docs else ""))
    return 0


# ------------------------------------------------------------------ merge, reduce
#: topicvae.runs.merging.FINE_TUNE_EPOCHS, repeated here so that --help does not import the library
MERGE_EPOCHS_HELP = 5


def _add_merge_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="name of the new run (default: RUN-merged for merge, RUN-kK for reduce)")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"epochs of training after the merge, at least 1 (default: {MERGE_EPOCHS_HELP}); "
                        "for LDA, passes, with --train-topics only")
    p.add_argument("--train-topics", action="store_true",
                   help="let the fine-tune change the merged topics too (default: only the encoder learns; "
                        "LDA runs are not fine-tuned unless this is given; see docs/merge.md)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads of the fine-tune (ProdLDA, NVDM and GSM runs; default: torch's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _merge_params(args) -> dict:
    """The fine-tune settings the user gave (the library's defaults otherwise)."""
    params = {k: getattr(args, k) for k in ("epochs", "threads") if getattr(args, k) is not None}
    return {**params, "train_topics": True} if args.train_topics else params


def _args_merge(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run name (see: topicvae runs)")
    p.add_argument("topics", nargs="+", metavar="TOPICS",
                   help="comma-separated topic numbers to merge into one, as `topicvae topics RUN` numbers "
                        "them (from 0); several groups merge into one topic each")
    _add_merge_flags(p)


def cmd_merge(args) -> int:
    from topicvae.runs import Run
    from topicvae.runs.merging import format_merge, merge_topics, parse_groups

    run = Run.load(args.run, args.runs_dir)
    new = merge_topics(run, parse_groups(args.topics), name=args.name, runs_dir=args.runs_dir,
                       corpora_dir=args.corpora_dir, progress=not args.quiet, **_merge_params(args))
    print(format_merge(new, run))
    print(f"\nnext: topicvae evaluate {new.name}   |   {run.name!r} is unchanged")
    return 0


def _args_reduce(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run name (see: topicvae runs)")
    p.add_argument("--topics", type=int, required=True, metavar="K2",
                   help="number of topics of the new run, fewer than the run's")
    _add_merge_flags(p)


def cmd_reduce(args) -> int:
    from topicvae.runs import Run
    from topicvae.runs.merging import format_merge, reduce_topics

    run = Run.load(args.run, args.runs_dir)
    new = reduce_topics(run, args.topics, name=args.name, runs_dir=args.runs_dir, corpora_dir=args.corpora_dir,
                        progress=not args.quiet, **_merge_params(args))
    print(format_merge(new, run))
    print(f"\nnext: topicvae evaluate {new.name}   |   {run.name!r} is unchanged")
    return 0


# ------------------------------------------------------------------ update
#: the training flags that make sense for training on (the network's shape is the source run's)
UPDATE_FLAGS = ("epochs", "batch_size", "lr", "kl_warmup", "clip_norm", "threads", "device", "seed")
#: topicvae.runs.update.DEFAULT_REPLAY and MAX_UNKNOWN_SHARE, repeated here so that --help does not import
#: the library (a test checks they agree)
DEFAULT_REPLAY, MAX_UNKNOWN_SHARE = 0.5, 0.9


def _args_update(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="the trained run to continue (prodlda, gsm, nvdm or lda); it is only read")
    p.add_argument("source", help="the new documents, in any format ingest reads (.csv/.tsv/.jsonl/.parquet, "
                                  "folder, archive, OCTIS dataset)")
    p.add_argument("--name", required=True,
                   help="the new run; its corpus (the old documents followed by the new ones) gets the same name")
    p.add_argument("--replay", type=_finite, default=DEFAULT_REPLAY, metavar="SHARE",
                   help="also train on this share (0 to 1) of the old training documents, a seeded random "
                        f"sample, so the old topics are not forgotten (default: {DEFAULT_REPLAY}; 0: the new "
                        "documents only, fastest)")
    p.add_argument("--language", metavar="CODE",
                   help="the language of the new documents; must be the run's corpus's (default: the corpus's)")
    p.add_argument("--max-unknown", type=_finite, default=MAX_UNKNOWN_SHARE, metavar="SHARE",
                   help="refuse when more than this share of the new tokens is outside the vocabulary "
                        f"(default: {MAX_UNKNOWN_SHARE})")
    p.add_argument("--top", type=int, default=10, help="topics shown in the drift table (default: 10)")
    p.add_argument("--force", action="store_true", help="replace an existing run and corpus of the new name")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_source_args(p)
    g = p.add_argument_group("training on (defaults: the source run's settings; epochs: half of its; "
                             "for an LDA run --epochs counts passes and only --seed applies besides)")
    _add_setting_flags(g, UPDATE_FLAGS, defaults=False)


def cmd_update(args) -> int:
    from topicvae.runs import model_class
    from topicvae.runs.update import format_drift, update_run

    params = {k: getattr(args, k) for k in UPDATE_FLAGS if getattr(args, k, None) is not None}
    epochs = params.pop("epochs", None)
    result = update_run(args.run, args.source, args.name, fmt=args.fmt, columns=_table_columns(args),
                        language=args.language, epochs=epochs, replay=args.replay, max_unknown=args.max_unknown,
                        corpora_dir=args.corpora_dir, runs_dir=args.runs_dir, force=args.force,
                        progress=not args.quiet, **params)
    run, update = result.run, result.run.config["update"]
    print(f"new documents: {result.new.unknown_line()}")
    n_epochs = run.config["epochs"]
    unit = "pass" if model_class(run.model_name).epochs_setting == "passes" else "epoch"  # (LDA counts passes)
    units = unit if n_epochs == 1 else ("passes" if unit == "pass" else "epochs")
    print(f"run {run.name!r}: {n_epochs} {units} from the weights of {args.run!r} on "
          f"{update['trained_documents']:,} documents ({update['new_documents']:,} new"
          + (f", {update['replayed_documents']:,} old replayed" if update["replayed_documents"] else "")
          + f"), {run.config['fit_seconds']:.1f} s of training")
    print(format_drift(result.drift, args.top))
    print(f"\nrun     {run.path}/  (drift report: drift.json)\ncorpus  {result.corpus.path}/  "
          f"({update['old_documents']:,} old + {update['new_documents']:,} new documents, column 'batch')")
    print(f"next: topicvae evaluate {run.name}   |   topicvae app  (Drift page)")
    return 0


# ------------------------------------------------------------------ app
def _args_app(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; anything else is reachable from other machines)")
    p.add_argument("--port", type=int, default=8501, help="port (default: 8501)")


def cmd_app(args) -> int:
    from topicvae.interfaces.app_launcher import launch

    return launch(corpora_dir=args.corpora_dir, runs_dir=args.runs_dir, host=args.host, port=args.port)


# ------------------------------------------------------------------ verify
def _args_verify(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", help="corpus or run names (default: all)")
    p.add_argument("--clean", action="store_true",
                   help="remove debris of killed commands and checkpoints of finished runs "
                        "(never a complete corpus or run, never a resumable checkpoint)")
    p.add_argument("--all", action="store_true", help="also list the items that are fine")


def cmd_verify(args) -> int:
    from topicvae.analysis.verify import PROBLEMS, format_findings, verify

    findings = verify(args.names or None, args.corpora_dir, args.runs_dir, clean=args.clean)
    print(format_findings(findings, verbose=args.all))
    return 1 if any(f.status in PROBLEMS and not f.removed for f in findings) else 0  # as `diff`: 1 = found something


# ------------------------------------------------------------------ main
@dataclass(frozen=True)
class Command:
    func: Callable
    args: Callable | None  # adds the command's arguments to its parser
    help: str
    examples: tuple[str, ...]


COMMANDS = {
    "quickstart": Command(cmd_quickstart, _args_quickstart,
                          "ingest the built-in sample, train, evaluate and export: the whole flow",
                          ("topicvae quickstart", "topicvae quickstart --topics 10 --out my-exports")),
    "ingest": Command(cmd_ingest, _add_ingest_args,
                      "turn documents (csv/tsv, jsonl, parquet, folders, archives, OCTIS datasets) into a corpus",
                      ("topicvae ingest reviews.csv --name reviews --text-col body --label-col stars",
                       "topicvae ingest 20news-bydate.tar.gz --name news --strip headers,quotes,signatures")),
    "corpora": Command(cmd_corpora, None, "list the corpora with their counts", ("topicvae corpora",)),
    "corpus-info": Command(cmd_corpus_info, _args_corpus_info,
                           "counts, labels, top words and document lengths of a corpus",
                           ("topicvae corpus-info news --top-words 20",)),
    "train": Command(cmd_train, _args_train, "train a topic model (prodlda, nvdm, gsm or lda) on a corpus",
                     ("topicvae train news --model prodlda --topics 50",
                      "topicvae train news --model prodlda --topics 50 --resume   (continue after Ctrl-C)",
                      "topicvae train news --topics 20 --seed-topics seeds.txt   (lines 'name: word word word')")),
    "topics": Command(cmd_topics, _args_topics, "print the top words of each topic of a run",
                      ("topicvae topics news-prodlda-k50 --words 15",)),
    "runs": Command(cmd_runs, None, "list the trained runs", ("topicvae runs",)),
    "evaluate": Command(cmd_evaluate, _args_evaluate,
                        "measure a run: NPMI, C_v, diversity, perplexity, label metrics, speed",
                        ("topicvae evaluate news-prodlda-k50", "topicvae evaluate news-prodlda-k50 --reference train")),
    "compare": Command(cmd_compare, _args_compare, "compare runs side by side, and align the topics of two runs",
                       ("topicvae compare news-prodlda-k50 news-lda-k50",)),
    "stability": Command(cmd_stability, _args_stability,
                         "train with several seeds and measure how stable the topics are",
                         ("topicvae stability news --model prodlda --topics 20 --seeds 3",)),
    "sweep": Command(cmd_sweep, _args_sweep,
                     "train and evaluate several models and numbers of topics; table and plot",
                     ("topicvae sweep news --models prodlda,lda --topics 10,20,50 --out sweep",)),
    "export": Command(cmd_export, _args_export, "write document vectors (theta, dominant topic) to CSV or Parquet",
                      ("topicvae export news-prodlda-k50 --out news.csv --with-uncertainty --topics-out topics.csv",)),
    "infer": Command(cmd_infer, _args_infer, "topic mixtures of new documents under a trained run",
                     ("topicvae infer news-prodlda-k50 new-posts.csv --out new-theta.csv",)),
    "merge": Command(cmd_merge, _args_merge, "merge topics of a run into one topic each, as a new run",
                     ("topicvae merge news-prodlda-k50 3,7",
                      "topicvae merge news-prodlda-k50 3,7 12,30,41 --name news-k47 --epochs 5")),
    "reduce": Command(cmd_reduce, _args_reduce,
                      "merge a run's closest topics (Jensen-Shannon, agglomerative) down to K2 topics, as a new run",
                      ("topicvae reduce news-prodlda-k50 --topics 20",
                       "topicvae reduce news-prodlda-k50 --topics 20 --name news-k20 --epochs 5")),
    "update": Command(cmd_update, _args_update,
                      "continue a run on new documents (its own vocabulary) into a new run, with a drift report",
                      ("topicvae update news-prodlda-k50 new-posts.csv --name news-k50-june",
                       "topicvae update news-prodlda-k50 june/ --name news-k50-june --replay 0 --epochs 10")),
    "app": Command(cmd_app, _args_app, "open the dashboard to explore topics, documents and comparisons",
                   ("topicvae app", "topicvae app --port 8600 --runs-dir experiments/runs")),
    "verify": Command(cmd_verify, _args_verify,
                      "check corpora and runs against their checksums; find and --clean debris of killed commands",
                      ("topicvae verify", "topicvae verify news news-prodlda-k50",
                       "topicvae verify --clean   (also remove the debris; exit status 1 while anything is wrong)")),
}


class OneLineErrors(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (with where to read more), not the usage block."""

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, f"error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(
        prog="topicvae",
        description="Neural topic models (ProdLDA, GSM, NVDM) for text corpora: ingest documents, "
                    "train and compare models, explore and export the results.",
        epilog="Run 'topicvae COMMAND --help' for the options of a command. "
               "Start with: topicvae quickstart",
    )
    parser.add_argument("--version", action="version", version=f"topicvae {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", parser_class=OneLineErrors)
    parser.commands = {}  # each command's own parser, whose --help an unknown option of it points to
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help[0].upper() + command.help[1:] + ".",
                           epilog="example:\n  " + "\n  ".join(command.examples),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=command.func)
        parser.commands[name] = p
        if command.args is not None:
            command.args(p)
        _add_corpora_dir(p)
        _add_runs_dir(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # (argparse leaves them to the top parser, whose --help does not list a command's options)
        command = getattr(args, "command", None)
        after = command is not None and argv.index(command) < argv.index(unknown[0])  # an option of the command
        (parser.commands[command] if after else parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    args.argv = argv
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # library advice (small classes in cross-validation, ...) is noise here
        import warnings

        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, where a reader gone away is caught, not at the interpreter's exit
        return code
    except TopicVAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:  # a source or run larger than this machine's memory: one line, no traceback
        print(f"error: out of memory in `topicvae {args.command}`; what it was writing was not saved. Give it a "
              "smaller input (split the source, or fewer --max-vocab words) or run it on a machine with more memory",
              file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # stdout's reader went away (`topicvae runs | head -1`): stop quietly, as `ls` does
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # the machine refused (disk full, permissions, a path that is not a folder): one line
        print(f"error: {os_error_line(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR


#: what to do about the operating system's refusals a person can fix (by errno); anything else: check the path
_OS_ERROR_ADVICE = {"ENOSPC": "free space", "EDQUOT": "free space", "EACCES": "fix the permissions",
                    "EPERM": "fix the permissions", "EROFS": "write to another folder"}


def os_error_line(exc: OSError) -> str:
    """The one line for an operating-system error: what it said, on which file, and what to do."""
    import errno

    where = f" ({exc.filename})" if exc.filename else ""
    advice = _OS_ERROR_ADVICE.get(errno.errorcode.get(exc.errno or 0, ""), "check the path")
    return f"{exc.strerror or exc}{where}; {advice} and run the command again"


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush at exit does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
