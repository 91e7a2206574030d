"""The ``topicvae`` command line: thin commands over the package's public API.

Each command parses its arguments and calls one plain function; errors a user can
fix print one line (``error: ...``) and exit with status 2. Heavy libraries load
inside the commands, so ``topicvae --help`` is quick.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import TopicVAEError

EXIT_USER_ERROR = 2


# ------------------------------------------------------------------ helpers
def _number(text: str) -> float | int:
    """'5' → 5 (a count), '0.01' → 0.01 (a fraction)."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


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


# ------------------------------------------------------------------ ingest
def _add_ingest_args(p: argparse.ArgumentParser) -> None:
    from .config import PreprocessSettings, VocabSettings

    pre, voc = PreprocessSettings(), VocabSettings()
    p.add_argument("source", help="a .csv/.tsv/.jsonl/.parquet file, a folder of .txt files, "
                                  "a .tar.gz/.zip archive of folders, or builtin:sample")
    p.add_argument("--name", help="corpus name (default: from the source's file name)")
    p.add_argument("--format", dest="fmt", choices=["csv", "tsv", "jsonl", "parquet", "folder", "archive", "builtin"],
                   help="source format (default: detected from the path)")
    g = p.add_argument_group("table columns (csv, tsv, jsonl, parquet); other columns are kept as metadata")
    g.add_argument("--text-col", default="text", help="column with the document text (default: text)")
    g.add_argument("--id-col", help="column with a unique document id (default: row number)")
    g.add_argument("--label-col", help="column with a class label")
    g.add_argument("--date-col", help="column with a date")
    g.add_argument("--split-col", help="column naming the split (train/test) of each row")
    g = p.add_argument_group("preprocessing")
    g.add_argument("--strip", default="", metavar="PARTS",
                   help="mail/newsgroup parts to remove, comma-separated: headers,quotes,signatures")
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
    g.add_argument("--n-process", type=int, default=1, help="processes for tokenizing (default: 1)")
    g.add_argument("--dedupe", action="store_true", help="keep the first of documents sharing an id (default: fail)")
    g.add_argument("--force", action="store_true", help="replace an existing corpus of the same name")
    g.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_corpora_dir(p)


def _default_name(source: str) -> str:
    import re

    if source.startswith("builtin:"):
        return source.split(":", 1)[1]
    base = Path(source.rstrip("/")).name
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip", ".csv", ".tsv", ".jsonl",
                   ".ndjson", ".json", ".parquet", ".pq"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.") or "corpus"


def cmd_ingest(args) -> int:
    from .config import PreprocessSettings, VocabSettings
    from .ingestion import ingest, read_stopwords
    from .text.sources import TableColumns

    pre = PreprocessSettings(
        strip=tuple(p.strip() for p in args.strip.split(",") if p.strip()),
        drop_encoded=not args.keep_encoded,
        lemmatize=not args.no_lemmatize,
        stopwords=not args.no_stopwords,
        extra_stopwords=tuple(read_stopwords(args.stopwords)) if args.stopwords else (),
        min_token_len=args.min_token_len,
        keep_alnum=args.keep_alnum,
    )
    voc = VocabSettings(min_df=args.min_df, max_df=args.max_df, max_vocab=args.max_vocab or None,
                        min_tokens=args.min_tokens, phrases=args.phrases)
    cols = TableColumns(text=args.text_col, id=args.id_col, label=args.label_col, date=args.date_col,
                        split=args.split_col)
    name = args.name or _default_name(args.source)
    corpus = ingest(args.source, name, fmt=args.fmt, columns=cols, preprocess=pre, vocab=voc,
                    corpora_dir=args.corpora_dir, force=args.force, dedupe=args.dedupe,
                    n_process=args.n_process, progress=not args.quiet)
    print(describe_ingest(corpus))
    return 0


def describe_ingest(corpus) -> str:
    c = corpus.manifest["counts"]
    drops = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in c["dropped"].items() if v) or "none dropped"
    splits = ", ".join(f"{v:,} {k}" for k, v in c["splits"].items())
    lines = [
        f"corpus {corpus.name!r}: {c['kept']:,} documents kept of {c['read']:,} read ({drops})",
        f"  {c['vocabulary']:,} words, {_human(c['tokens'])} tokens, {c['labels']} labels"
        + (f", splits: {splits}" if splits else ""),
    ]
    if c.get("bad_utf8"):
        lines.append(f"  {c['bad_utf8']:,} documents had bytes that are not UTF-8 (replaced with U+FFFD)")
    if c.get("encoded_lines_dropped"):
        lines.append(f"  {c['encoded_lines_dropped']:,} lines of encoded binary dropped "
                     f"from {c['docs_with_encoded_lines']:,} documents")
    lines.append(f"  saved to {corpus.path} in {corpus.manifest['seconds']:.1f} s")
    return "\n".join(lines)


# ------------------------------------------------------------------ corpora, corpus-info
def cmd_corpora(args) -> int:
    from .corpus import list_corpora, read_manifest
    from .paths import corpora_dir

    names = list_corpora(args.corpora_dir)
    if not names:
        print(f"no corpora in {corpora_dir(args.corpora_dir)}; make one with: topicvae ingest builtin:sample")
        return 0
    rows = []
    for n in names:
        m = read_manifest(n, args.corpora_dir)
        c = m["counts"]
        rows.append({"name": n, "documents": f"{c['kept']:,}", "words": f"{c['vocabulary']:,}",
                     "tokens": _human(c["tokens"]), "labels": c["labels"],
                     "splits": ",".join(f"{k}:{v}" for k, v in c["splits"].items()) or "-",
                     "source": m["source"]["path"]})
    print(_table(rows))
    return 0


def cmd_corpus_info(args) -> int:
    from .corpus import Corpus
    from .corpus_info import corpus_report

    print(corpus_report(Corpus.load(args.name, args.corpora_dir), top_words=args.top_words))
    return 0


# ------------------------------------------------------------------ quickstart
def cmd_quickstart(args) -> int:
    from .ingestion import ingest

    print("1/1 ingesting the built-in sample (Lee news articles + Wikipedia sections shipped with gensim)")
    corpus = ingest("builtin:sample", args.name, corpora_dir=args.corpora_dir, force=True, progress=not args.quiet)
    print(describe_ingest(corpus))
    print(f"\nnext: topicvae corpus-info {corpus.name}" + (f" --corpora-dir {args.corpora_dir}" if args.corpora_dir else ""))
    return 0


# ------------------------------------------------------------------ main
COMMANDS = {
    "quickstart": (cmd_quickstart, "ingest the built-in sample corpus and show what was made"),
    "ingest": (cmd_ingest, "turn documents (csv, jsonl, parquet, folders, archives) into a corpus"),
    "corpora": (cmd_corpora, "list the corpora with their counts"),
    "corpus-info": (cmd_corpus_info, "counts, labels, top words and document lengths of a corpus"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="topicvae",
        description="Neural topic models (ProdLDA, NVDM) for text corpora: ingest documents, "
                    "train and compare models, explore and export the results.",
        epilog="Run 'topicvae COMMAND --help' for the options of a command. "
               "Start with: topicvae quickstart",
    )
    parser.add_argument("--version", action="version", version=f"topicvae {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (func, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_[0].upper() + help_[1:] + ".")
        p.set_defaults(func=func)
        if name == "ingest":
            _add_ingest_args(p)
        elif name == "corpora":
            _add_corpora_dir(p)
        elif name == "corpus-info":
            p.add_argument("name", help="corpus name")
            p.add_argument("--top-words", type=int, default=30, help="how many top words to show (default: 30)")
            _add_corpora_dir(p)
        elif name == "quickstart":
            p.add_argument("--name", default="sample", help="name of the sample corpus (default: sample)")
            p.add_argument("--quiet", action="store_true", help="no progress bars")
            _add_corpora_dir(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except TopicVAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
