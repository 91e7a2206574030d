"""Every bad input a user can give the CLI ends in one line: exit ≠ 0, ``error: ...``, no traceback,
and nothing written or damaged. Damaged files are also found by ``topicvae verify``.

Each case gets its own copy of a small workspace (a corpus, a trained run, input files),
damages or prepares what it needs, runs the real CLI entry (``topicvae.interfaces.cli.main``) and
compares the workspace before and after.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import socket
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from topicvae import ingest
from topicvae.corpus import Corpus
from topicvae.analysis.verify import DAMAGED, OK, verify
from topicvae.interfaces.cli import main
from topicvae.runs import train_run

from test_runs import FAST, K, N_DOCS, V, make_corpus
from cli_support import one_error_line
from snapshots import snapshot

RUN, CORPUS = "r", "tiny"
#: a run whose corpus was ingested from words.csv, so that `infer` can read new documents with it
WORDS_RUN = "wr"
WORDS = ("apple banana cherry grape melon lemon river mountain forest ocean desert valley piano guitar violin "
         "trumpet doctor teacher farmer pilot lawyer baker garden kitchen window bridge castle tower").split()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """corpora/tiny, runs/r (ProdLDA) and input files, made once; each case copies it."""
    ws = tmp_path_factory.mktemp("ws")
    corpus = make_corpus(ws, name=CORPUS)
    train_run(corpus, "prodlda", K, name=RUN, runs_dir=ws / "runs", **FAST)
    inputs = ws / "in"
    inputs.mkdir()
    (inputs / "ok.csv").write_text("text\nword01 word02 word03 word04\n")
    rng = np.random.default_rng(0)
    (inputs / "words.csv").write_text("text\n" + "".join(" ".join(rng.choice(WORDS, 12)) + "\n" for _ in range(120)))
    words = ingest(str(inputs / "words.csv"), "words", corpora_dir=ws / "corpora")
    train_run(words, "prodlda", 3, name=WORDS_RUN, runs_dir=ws / "runs", **FAST)
    (inputs / "empty.csv").write_text("")
    (inputs / "headerless.csv").write_text("word01 word02 word03,train\nword04 word05 word06,test\n")
    (inputs / "octis.tsv").write_text("word01 word02\ttrain\t0\nword03 word04\tval\t1\nword05\ttest\n")
    (inputs / "header-only.csv").write_text("text\n")
    (inputs / "unknown-words.csv").write_text("text\nzzzz qqqq xxxx\nyyyy\n")
    (inputs / "binary.parquet").write_bytes(bytes(range(256)) * 64)
    (inputs / "docs.jsonl").write_text('{"text": "a b c", "id": "1"}\n{"text": "d e f"}\n')
    (inputs / "deep.jsonl").write_text('{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for i in range(50):
            data = (f"document {i} " * 400).encode()
            info = tarfile.TarInfo(f"docs/{i}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (inputs / "truncated.tar.gz").write_bytes(archive.getvalue()[: len(archive.getvalue()) // 2])
    (inputs / "not-gzip.tar.gz").write_bytes(gzip.compress(b"not a tar at all") + b"\0garbage")
    with zipfile.ZipFile(inputs / "encrypted.zip", "w") as z:
        z.writestr("a.txt", "some text here")
    data = bytearray((inputs / "encrypted.zip").read_bytes())
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the 'encrypted' flag bit
        at = data.find(sig)
        data[at + flag_at] |= 1
    (inputs / "encrypted.zip").write_bytes(bytes(data))
    with zipfile.ZipFile(inputs / "escape.zip", "w") as z:
        z.writestr("../../outside.txt", "apple banana cherry grape melon")
        for i in range(30):
            z.writestr(f"docs/{i}.txt", "apple banana cherry grape melon lemon")
    mixed = inputs / "encodings"
    mixed.mkdir()
    for i in range(10):
        text = f"café naïve résumé word{i:02d} déjà vu"
        (mixed / f"utf16-{i}.txt").write_bytes(text.encode("utf-16"))
        (mixed / f"latin1-{i}.txt").write_bytes(text.encode("latin-1"))
        (mixed / f"cp1252-{i}.txt").write_bytes((text + " \u2019quoted\u2019").encode("cp1252"))
        (mixed / (b"latin1-name-\xe9t\xe9-" + str(i).encode() + b".txt").decode("utf-8", "surrogateescape")
         ).write_bytes(text.encode("utf-8"))
    (inputs / "folder").mkdir()
    _sources_read_in_full(inputs, rng)
    return ws


def _sources_read_in_full(inputs: Path, rng) -> None:
    """Sources every row, member or file of which is a document, though a reader could miss some:
    stray quotes, hard links in a tar, dots in file names, a Latin-1 label column."""
    def line(i: int) -> str:
        return " ".join(rng.choice(WORDS, 8)) + f" word{i:02d}"

    stray = {3, 11, 19, 27}  # rows whose text opens with a double quote that never closes
    for fmt, sep in (("tsv", "\t"), ("csv", ",")):
        rows = [('"' if i in stray else "") + line(i) + sep + f"l{i % 3}" for i in range(40)]
        (inputs / f"stray-quotes.{fmt}").write_text(f"text{sep}label\n" + "\n".join(rows) + "\n")
    with tarfile.open(inputs / "hard-links.tar", "w") as tar:
        for i in range(30):
            data = line(i).encode()
            info = tarfile.TarInfo(f"docs/{i:02d}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for i in range(10):  # the same content under another name: a document of its own
            info = tarfile.TarInfo(f"docs/copy-{i:02d}.txt")
            info.type, info.linkname = tarfile.LNKTYPE, f"docs/{i:02d}.txt"
            tar.addfile(info)
    dotted = inputs / "dotted-names"
    dotted.mkdir()
    for i in range(30):
        name = (f"Chapter {i}. The river", f"notes v1.{i}", f"draft {i}.final version")[i % 3]
        (dotted / name).write_text(line(i))
    (inputs / "latin1-labels.csv").write_bytes(
        b"text,label\n" + b"".join(line(i).encode() + (b",caf\xe9\n" if i % 2 else b",plain\n") for i in range(20)))






# ---------------------------------------------------------------------------- damage
def write(rel: str, data: bytes | str):
    def setup(ws: Path) -> None:
        path = ws / rel
        path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
    return setup


def truncate(rel: str, keep: float = 0.5):
    def setup(ws: Path) -> None:
        path = ws / rel
        path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])
    return setup


def remove(rel: str):
    def setup(ws: Path) -> None:
        path = ws / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return setup


class Payload:
    """Anything that is not tensors and settings: torch.load(weights_only=True) refuses to build it."""

    def __reduce__(self):
        return (print, ("this payload ran",))


def foreign_model(ws: Path) -> None:
    import torch

    torch.save({"model": "prodlda", "payload": Payload()}, ws / "runs" / RUN / "model.pt")


def change_corpus(ws: Path) -> None:
    make_corpus(ws / "other", name=CORPUS, seed=7)
    shutil.rmtree(ws / "corpora" / CORPUS)
    shutil.copytree(ws / "other" / "corpora" / CORPUS, ws / "corpora" / CORPUS)
    shutil.rmtree(ws / "other")


def copy(rel: str, to: str):
    def setup(ws: Path) -> None:
        (shutil.copytree if (ws / rel).is_dir() else shutil.copyfile)(ws / rel, ws / to)
    return setup


def link(rel: str, to: str):
    def setup(ws: Path) -> None:
        (ws / rel).symlink_to(ws / to)
    return setup


def fifo(rel: str):
    """A named pipe (not a regular file; a writer that replaced it would leave a regular file)."""
    def setup(ws: Path) -> None:
        os.mkfifo(ws / rel)
    return setup


def user_file(rel: str):
    def setup(ws: Path) -> None:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text("the user's own file\n")
    return setup


def big_line(ws: Path) -> None:
    (ws / "in" / "big.csv").write_text("text\n" + "zq " * (50 * 2 ** 20 // 3) + "\n")  # 50 MB, one word


def port_in_use(ws: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port_in_use.sock = sock  # kept open for the command
    (ws / "port").write_text(str(sock.getsockname()[1]))


DIRS = "--corpora-dir {ws}/corpora --runs-dir {ws}/runs"
I = "{ws}/in"
CASES = [
    # --- what ingest reads
    ("missing file", f"ingest {I}/nope.csv --name c", None),
    ("empty file", f"ingest {I}/empty.csv --name c", None),
    ("header only", f"ingest {I}/header-only.csv --name c", None),
    ("binary as parquet", f"ingest {I}/binary.parquet --name c", None),
    ("jsonl row without the id field", f"ingest {I}/docs.jsonl --name c --id-col id", None),
    ("jsonl nested 100k deep", f"ingest {I}/deep.jsonl --name c", None),
    ("truncated tar.gz", f"ingest {I}/truncated.tar.gz --name c", None),
    ("gzip that is no tar", f"ingest {I}/not-gzip.tar.gz --name c", None),
    ("zip with encrypted members", f"ingest {I}/encrypted.zip --name c", None),
    ("empty folder", f"ingest {I}/folder --name c", None),
    ("unknown format", f"ingest {I}/ok.csv --name c --format xml", None),
    ("unknown language", f"ingest {I}/ok.csv --name c --language xx", None),
    ("language without lemma table", f"ingest {I}/ok.csv --name c --language am", None),
    ("missing text column", f"ingest {I}/ok.csv --name c --text-col body", None),
    ("50 MB one-line document", f"ingest {I}/big.csv --name c", big_line),
    ("column position out of range", f"ingest {I}/headerless.csv --name c --no-header --text-col 0 --label-col 2",
     None),
    ("--no-header with a column name", f"ingest {I}/headerless.csv --name c --no-header --text-col text", None),
    ("--no-header for a jsonl file", f"ingest {I}/docs.jsonl --name c --no-header --text-col 0", None),
    ("OCTIS row with 2 fields of 3", f"ingest {I}/octis.tsv --name c --format octis", None),
    ("OCTIS folder without corpus.tsv", f"ingest {I}/folder --name c --format octis", None),
    ("corpus exists", f"ingest {I}/ok.csv --name {CORPUS}", None),
    # --- names
    ("name ../x", f"ingest {I}/ok.csv --name ../x", None),
    ("name a/b", f"ingest {I}/ok.csv --name a/b", None),
    ("empty name", [*f"ingest {I}/ok.csv --name".split(), ""], None),
    ("name of 300 characters", f"ingest {I}/ok.csv --name {'n' * 300}", None),
    ("name with a control character", [*f"ingest {I}/ok.csv --name".split(), "a\x01b"], None),
    ("run name ../x", f"train {CORPUS} --topics 3 --name ../x", None),
    # --- training settings
    ("K = 0", f"train {CORPUS} --topics 0", None),
    ("K = 1", f"train {CORPUS} --topics 1", None),
    ("K = V", f"train {CORPUS} --topics 50", None),
    ("K not a number", f"train {CORPUS} --topics many", None),
    ("epochs 0", f"train {CORPUS} --topics 3 --epochs 0", None),
    ("epochs -1", f"train {CORPUS} --topics 3 --epochs -1", None),
    ("lr 0", f"train {CORPUS} --topics 3 --lr 0", None),
    ("lr nan", f"train {CORPUS} --topics 3 --lr nan", None),
    ("batch size 0", f"train {CORPUS} --topics 3 --batch-size 0", None),
    ("unknown model", f"train {CORPUS} --topics 3 --model bert", None),
    ("cuda without a GPU", f"train {CORPUS} --topics 3 --device cuda", None),
    ("resume without checkpoint", f"train {CORPUS} --topics 3 --name fresh --resume", None),
    ("resume an lda run", f"train {CORPUS} --topics 3 --model lda --name fresh --resume", None),
    ("run exists", f"train {CORPUS} --topics {K} --name {RUN}", None),
    ("unknown corpus", "train nosuch --topics 3", None),
    ("unknown command", "bogus", None),
    # --- infer and export
    ("infer an empty file", f"infer {RUN} {I}/header-only.csv --out {{ws}}/o.csv", None),
    ("infer only unknown words", f"infer {RUN} {I}/unknown-words.csv --out {{ws}}/o.csv", None),
    ("infer --with-uncertainty with an LDA run", f"infer lda {I}/words.csv --out {{ws}}/o.csv --with-uncertainty",
     lambda ws: train_run(Corpus.load("words", ws / "corpora"), "lda", 3, name="lda", runs_dir=ws / "runs", passes=1, progress=False)),
    ("export --with-uncertainty with an LDA run", f"export lda --out {{ws}}/o.csv --with-uncertainty",
     lambda ws: train_run(Corpus.load("words", ws / "corpora"), "lda", 3, name="lda", runs_dir=ws / "runs", passes=1, progress=False)),
    ("export into a missing folder", f"export {RUN} --out {{ws}}/missing/o.csv", None),
    ("export --out a .json file", f"export {RUN} --out {{ws}}/o.json", None),
    ("export --topics-out a file without a suffix", f"export {RUN} --out {{ws}}/o.csv --topics-out {{ws}}/topics", None),
    ("infer --out a .txt file", f"infer {WORDS_RUN} {I}/words.csv --out {{ws}}/o.txt", None),
    ("export into a read-only folder", f"export {RUN} --out /proc/o.csv", None),
    ("export --out an existing folder", f"export {RUN} --out {I}/folder", None),
    ("infer --out an existing folder", f"infer {RUN} {I}/ok.csv --out {I}/folder", None),
    ("unknown run", "topics nosuch", None),
    # --- damaged or missing files of a corpus or run
    ("run whose corpus was deleted", f"export {RUN} --out {{ws}}/o.csv", remove(f"corpora/{CORPUS}")),
    ("run whose corpus changed", f"evaluate {RUN} --no-c-v", change_corpus),
    ("config.json is not JSON", f"topics {RUN}", write(f"runs/{RUN}/config.json", "{not json")),
    ("config.json is {}", f"topics {RUN}", write(f"runs/{RUN}/config.json", "{}")),
    ("vocab.json missing", f"topics {RUN}", remove(f"runs/{RUN}/vocab.json")),
    ("topic_word.npy truncated", f"topics {RUN}", truncate(f"runs/{RUN}/topic_word.npy")),
    ("doc_topic.npy truncated", f"export {RUN} --out {{ws}}/o.csv", truncate(f"runs/{RUN}/doc_topic.npy")),
    ("model.pt truncated", f"infer {RUN} {I}/ok.csv --out {{ws}}/o.csv", truncate(f"runs/{RUN}/model.pt")),
    ("model.pt foreign (pickled object)", f"infer {RUN} {I}/ok.csv --out {{ws}}/o.csv", foreign_model),
    ("metrics.json damaged", f"compare {RUN} {RUN}", write(f"runs/{RUN}/metrics.json", "[1, 2")),
    ("labels.json with a non-integer key", f"export {RUN} --out {{ws}}/o.csv",
     write(f"runs/{RUN}/labels.json", '{"one": "sports"}')),
    ("labels.json is a list", f"export {RUN} --out {{ws}}/o.csv", write(f"runs/{RUN}/labels.json", '["sports"]')),
    ("bow.npz truncated: train", f"train {CORPUS} --topics 3", truncate(f"corpora/{CORPUS}/bow.npz")),
    ("bow.npz truncated: corpus-info", f"corpus-info {CORPUS}", truncate(f"corpora/{CORPUS}/bow.npz")),
    ("manifest.json damaged", f"corpus-info {CORPUS}", write(f"corpora/{CORPUS}/manifest.json", "{")),
    ("docs.parquet damaged", f"corpus-info {CORPUS}", truncate(f"corpora/{CORPUS}/docs.parquet")),
    # --- the dashboard
    ("app port in use", "app --port {port}", port_in_use),
    # --- outputs onto what a command reads, into the corpora and runs folders, twice, or onto no regular file
    ("export --out a corpus's docs.parquet", f"export {RUN} --out {{ws}}/corpora/{CORPUS}/docs.parquet", None),
    ("export --out the run's doc_topic.npy", f"export {RUN} --out {{ws}}/runs/{RUN}/doc_topic.npy", None),
    ("export --out a new file in the runs folder", f"export {RUN} --out {{ws}}/runs/o.csv", None),
    ("export --out a new file in the corpora folder", f"export {RUN} --out {{ws}}/corpora/o.csv", None),
    ("export --out through a link to a corpus", f"export {RUN} --out {{ws}}/link/docs.parquet",
     link("link", f"corpora/{CORPUS}")),
    ("export --topics-out the run's topics.csv",
     f"export {RUN} --out {{ws}}/o.csv --topics-out {{ws}}/runs/{RUN}/topics.csv", None),
    ("export --topics-out the file of --out", f"export {RUN} --out {{ws}}/o.csv --topics-out {{ws}}/o.csv", None),
    ("export --topics-out the file of --out, spelled otherwise",
     f"export {RUN} --out {{ws}}/o.csv --topics-out {{ws}}/in/../o.csv", None),
    ("export --out a named pipe", f"export {RUN} --out {{ws}}/pipe", fifo("pipe")),
    ("export --topics-out a named pipe", f"export {RUN} --out {{ws}}/o.csv --topics-out {{ws}}/pipe", fifo("pipe")),
    ("infer --out the run's doc_topic.npy", f"infer {WORDS_RUN} {I}/words.csv --out {{ws}}/runs/{WORDS_RUN}/doc_topic.npy",
     None),
    ("infer --out a corpus's docs.parquet", f"infer {WORDS_RUN} {I}/words.csv --out {{ws}}/corpora/words/docs.parquet",
     None),
    ("infer --out the file it reads", f"infer {WORDS_RUN} {I}/words.csv --out {I}/words.csv", None),
    ("infer --out a named pipe", f"infer {WORDS_RUN} {I}/words.csv --out {{ws}}/pipe", fifo("pipe")),
    ("quickstart over the user's corpus 'sample'", "quickstart --topics 3 --epochs 1 --out {ws}/exports",
     copy(f"corpora/{CORPUS}", "corpora/sample")),
    ("quickstart over the user's run of its run's name", "quickstart --topics 3 --epochs 1 --out {ws}/exports",
     copy(f"runs/{RUN}", "runs/sample-prodlda-k3")),
    ("quickstart over the user's file of its export's name", "quickstart --topics 3 --epochs 1 --out {ws}/exports",
     user_file("exports/sample-prodlda-k3-topics.csv")),
    ("quickstart --out in the runs folder", "quickstart --topics 3 --epochs 1 --out {ws}/runs/exports", None),
    ("quickstart --topics 1", "quickstart --topics 1 --epochs 1 --out {ws}/exports", None),
    ("quickstart --epochs 0", "quickstart --topics 3 --epochs 0 --out {ws}/exports", None),
    # --- settings out of range
    ("n-process 0", f"ingest {I}/words.csv --name c --n-process 0", None),
    ("n-process -2", f"ingest {I}/words.csv --name c --n-process -2", None),
    ("binary file as --stopwords", f"ingest {I}/words.csv --name c --stopwords {I}/binary.parquet", None),
    ("seed 2**40", f"train {CORPUS} --topics 3 --seed {2 ** 40}", None),
    ("lr inf", f"train {CORPUS} --topics 3 --lr inf", None),
    ("update --max-unknown nan", f"update {WORDS_RUN} {I}/words.csv --name u --max-unknown nan", None),
    ("update --replay inf", f"update {WORDS_RUN} {I}/words.csv --name u --replay inf", None),
    ("/dev/zero as a CSV source", "ingest /dev/zero --format csv --name c", None),
    ("/dev/zero as infer's CSV", f"infer {WORDS_RUN} /dev/zero --format csv --out {{ws}}/o.csv", None),
]
#: cases whose damage `topicvae verify` must report (the name it reports it under)
DAMAGE_FOUND_BY_VERIFY = {"run whose corpus was deleted": RUN, "run whose corpus changed": RUN,
                          "config.json is not JSON": RUN, "config.json is {}": RUN, "vocab.json missing": RUN,
                          "topic_word.npy truncated": RUN, "doc_topic.npy truncated": RUN,
                          "model.pt truncated": RUN, "model.pt foreign (pickled object)": RUN,
                          "metrics.json damaged": RUN, "labels.json with a non-integer key": RUN,
                          "labels.json is a list": RUN, "bow.npz truncated: train": CORPUS, "manifest.json damaged": CORPUS,
                          "docs.parquet damaged": CORPUS}


def argv_for(case, ws: Path) -> list[str]:
    args = case.split() if isinstance(case, str) else list(case)
    fill = {"ws": ws, "port": (ws / "port").read_text() if (ws / "port").exists() else ""}
    args = [a.format(**fill) for a in args]
    if args[0] != "bogus":
        args += DIRS.format(ws=ws).split()
    if args[0] in ("ingest", "train", "quickstart"):
        args.append("--quiet")  # progress bars would share stderr with the error line
    return args


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_there_are_at_least_40_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("what,command,setup", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line_and_changes_nothing(what, command, setup, ws, capsys):
    if setup is not None:
        setup(ws)
    before = snapshot(ws)
    try:
        code, _, err = run_cli(argv_for(command, ws), capsys)
    finally:
        if getattr(port_in_use, "sock", None):
            port_in_use.sock.close()
            port_in_use.sock = None
    assert code not in (0, None), f"{what}: accepted"
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), f"{what}:\n{err}"
    assert snapshot(ws) == before, f"{what}: the command changed the workspace"
    if what in DAMAGE_FOUND_BY_VERIFY:
        statuses = {f.status for f in verify([DAMAGE_FOUND_BY_VERIFY[what]], ws / "corpora", ws / "runs")
                    if f.name == DAMAGE_FOUND_BY_VERIFY[what]}
        assert statuses - {OK}, f"verify did not find: {what}"


def test_a_bad_setting_creates_no_runs_folder(ws, capsys):
    """The runs folder is made only once the settings are known to be good."""
    shutil.rmtree(ws / "runs")
    code, _, err = run_cli(argv_for(f"train {CORPUS} --topics 3 --lr 0", ws), capsys)
    assert code not in (0, None) and err.startswith("error: ")
    assert not (ws / "runs").exists()


def test_a_reader_that_goes_away_stops_the_command_quietly(ws):
    """`topicvae runs | head -1`: the exit code a shell gives a command stopped by SIGPIPE, no message."""
    import subprocess
    import sys

    code = "import sys; from topicvae.interfaces.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "runs", "--runs-dir", str(ws / "runs")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == ""


def test_a_path_that_is_not_a_folder_is_named_as_such(ws, capsys):
    code, _, err = run_cli(["ingest", str(ws / "in" / "ok.csv"), "--name", "x",
                            "--corpora-dir", str(ws / "in" / "ok.csv" / "sub")], capsys)
    assert code == 2 and err.strip().startswith("error: Not a directory") and "check the path" in err
    assert "free space" not in err and "\n" not in err.strip()


@pytest.mark.parametrize("command,line", [
    ("compare {run}", "error: compare needs two or more runs, got 1; e.g. topicvae compare {run} OTHER-RUN"),
    ("quickstart --threads 1", "error: unrecognized arguments: --threads 1 (see: topicvae quickstart --help)"),
    ("--bogus runs", "error: unrecognized arguments: --bogus (see: topicvae --help)"),  # (before the command)
    ("merge {run} 1,1", "error: a merge needs at least two different topics (topic 1 is named more than once in "
                        "1,1); name two or more, e.g. 3,7"),
    ("ingest {ws}/in/ok.csv --name neg --max-vocab -5", "error: --max-vocab must be at least 1, or 0 for no limit; "
                                                        "got -5"),
])
def test_the_line_says_what_is_wrong(command, line, ws, capsys):
    code, _, err = run_cli(argv_for(command.format(run=RUN, ws="{ws}"), ws), capsys)
    assert code == 2 and err.strip() == line.format(run=RUN, ws=ws)


def test_verify_calls_an_unknown_name_missing_and_a_damaged_corpus_damaged(ws, capsys):
    code, out, _ = run_cli(argv_for("verify nope", ws), capsys)
    assert code == 1 and out.splitlines()[0].startswith("missing    name 'nope': no corpus or run of that name")
    bow = ws / "corpora" / CORPUS / "bow.npz"
    bow.write_bytes(bow.read_bytes()[:100])
    code, _, err = run_cli(argv_for(f"export {RUN} --out {{ws}}/o.csv", ws), capsys)
    assert code == 2 and f"was trained on corpus '{CORPUS}', which is damaged (" in err


def test_corpora_lists_the_good_corpora_when_one_manifest_is_damaged(ws, capsys):
    make_corpus(ws / "second", name="second")
    shutil.move(str(ws / "second" / "corpora" / "second"), str(ws / "corpora" / "second"))
    (ws / "corpora" / CORPUS / "manifest.json").write_text("{")
    code, out, err = run_cli(["corpora", "--corpora-dir", str(ws / "corpora")], capsys)
    assert code == 0 and "second" in out and CORPUS not in out
    assert err.strip() == f"warning: corpus '{CORPUS}' is damaged; `topicvae verify {CORPUS}` says what is wrong"


@pytest.mark.parametrize("what,source,n_docs", [
    ("zip member named ../../x: read as a plain id, nothing written outside", "escape.zip", 31),
    ("UTF-16, Latin-1 and cp1252 files and a Latin-1 file name", "encodings", 40),
    ("TSV with stray quotes that open fields", "stray-quotes.tsv", 40),
    ("CSV with stray quotes that open fields", "stray-quotes.csv", 40),
    ("tar with hard links", "hard-links.tar", 40),
    ("folder of file names with dots but no .txt", "dotted-names", 30),
])
def test_odd_but_valid_input_is_read_not_refused_or_lost(what, source, n_docs, ws, capsys):
    before = {p for p in ws.parent.rglob("*")}
    code, out, err = run_cli(["ingest", str(ws / "in" / source), "--name", "c", "--min-df", "1", "--max-df", "1.0", "--min-tokens", "1",
                              "--quiet", *DIRS.format(ws=ws).split()], capsys)
    assert code == 0 and "Traceback" not in err, err
    assert f"{n_docs:,} documents kept of {n_docs:,} read" in out, out
    created = {p for p in ws.parent.rglob("*")} - before
    assert all(ws / "corpora" in p.parents for p in created), "something was written outside the corpora folder"


def ingest_cli(ws: Path, source: str, *extra: str, capsys) -> tuple[int, str, str]:
    return run_cli(["ingest", str(ws / "in" / source), "--name", "c", "--min-df", "1", "--max-df", "1.0",
                    "--min-tokens", "1", "--quiet", *extra, *DIRS.format(ws=ws).split()], capsys)


def manifest_counts(ws: Path) -> dict:
    import json

    return json.loads((ws / "corpora" / "c" / "manifest.json").read_text())["counts"]


def test_stray_quotes_are_read_as_text_and_the_summary_says_so(ws, capsys):
    code, out, _ = ingest_cli(ws, "stray-quotes.tsv", "--label-col", "label", capsys=capsys)
    assert code == 0 and "read one row per line, quotes as text (--quoting none)" in out
    assert manifest_counts(ws)["quoting"] == "none"


def test_quoting_csv_reads_quoted_fields_and_counts_the_rows_over_lines(ws, capsys):
    """Asked for, quoted fields are read as such; the summary counts the rows that span lines."""
    code, out, _ = ingest_cli(ws, "stray-quotes.csv", "--quoting", "csv", capsys=capsys)
    assert code == 0
    counts = manifest_counts(ws)
    assert counts["quoting"] == "csv" and counts["read"] < 40 and counts["rows_over_lines"] == 2, counts
    assert "2 rows span several lines; if the file does not quote its fields, ingest it with --quoting none" in out


def test_files_not_read_are_counted_by_reason_in_the_summary_and_manifest(ws, capsys):
    folder = ws / "in" / "dotted-names"
    (folder / "README.md").write_text("about these chapters")
    (folder / ".DS_Store").write_bytes(b"\0\1")
    (folder / "cover").write_bytes(b"\x89PNG\0\0\0binary")
    code, out, _ = ingest_cli(ws, "dotted-names", capsys=capsys)
    assert code == 0 and "30 documents kept of 30 read" in out
    assert "3 file(s) of the source not read: " in out
    assert all(f"1 {why}" in out for why in ("with another suffix", "hidden", "binary"))
    assert manifest_counts(ws)["skipped_files"] == {"with another suffix": 1, "hidden": 1, "binary": 1}


def test_latin1_bytes_in_a_label_column_are_counted(ws, capsys):
    code, out, _ = ingest_cli(ws, "latin1-labels.csv", "--label-col", "label", capsys=capsys)
    assert code == 0 and manifest_counts(ws)["bad_utf8"] == 10
    assert "10 documents had bytes that are not UTF-8" in out


def test_a_source_larger_than_memory_gives_one_line_and_saves_nothing(ws, capsys, monkeypatch):
    """A MemoryError (a source larger than the machine's memory) ends in one line, not a traceback."""
    from topicvae.text import sources

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(sources, "_read_bytes", out_of_memory)
    before = snapshot(ws)
    code, _, err = run_cli(argv_for(f"ingest {I}/words.csv --name c", ws), capsys)
    assert one_error_line(code, err) and err.startswith("error: out of memory in `topicvae ingest`"), err
    assert snapshot(ws) == before


# ---------------------------------------------------------------------------- damaged artefacts
# An array of the wrong shape behind a valid header, a topic_word.npy of NaN, a config.json edited after
# the run was saved: each command refuses the run with one line, changes nothing, and `verify` reports
# it. Runs saved before config.json had a digest still load and verify.
def npy(rel: str, array: np.ndarray):
    """Replace ``rel`` with a well-formed .npy file of ``array`` (a valid header; a shape or values that are not)."""
    def setup(ws: Path) -> None:
        np.save(ws / rel, array, allow_pickle=False)
    return setup


def edit_config(**changes):
    """Edit the run's config.json by hand, as a person with a text editor would."""
    def setup(ws: Path) -> None:
        path = ws / "runs" / RUN / "config.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **changes}, indent=2))
    return setup


def drop_config_digest(ws: Path) -> None:
    """Make the run look like one saved before config.json had a digest of its own."""
    (ws / "runs" / RUN / "config.sha256").unlink(missing_ok=True)


def rows(n: int, k: int) -> np.ndarray:
    """``n`` probability rows over ``k`` entries (each row sums to 1)."""
    return np.random.default_rng(0).dirichlet(np.ones(k), size=n)


F = f"runs/{RUN}"
#: (what, damage, the file the error line must name)
DAMAGE = [
    ("topic_word.npy of another shape", npy(f"{F}/topic_word.npy", rows(K + 1, V)), "topic_word.npy"),
    ("doc_topic.npy of another shape", npy(f"{F}/doc_topic.npy", rows(10, K).astype(np.float32)), "doc_topic.npy"),
    ("z_mean.npy of another shape", npy(f"{F}/z_mean.npy", np.zeros((10, K + 1), np.float32)), "z_mean.npy"),
    ("topic_word.npy all NaN", npy(f"{F}/topic_word.npy", np.full((K, V), np.nan)), "topic_word.npy"),
    ("config.json edited to another K", edit_config(n_topics=K + 1), "config.json"),
    ("config.json edited to another model", edit_config(model="nvdm"), "config.json"),
]
DAMAGE_COMMANDS = [f"export {RUN} --out {{ws}}/o.csv", f"evaluate {RUN} --no-c-v", f"topics {RUN}"]
DAMAGED_CASES = [(f"{what}: {command.split()[0]}", command, damage, names)
                 for what, damage, names in DAMAGE for command in DAMAGE_COMMANDS]


def run_damaged(command: str, ws: Path, capsys) -> str:
    """Run ``command``; assert it refused with one `error: ` line and left the workspace as it was; its stderr."""
    before = snapshot(ws)
    code, _, err = run_cli(argv_for(command, ws), capsys)
    lines = err.strip().splitlines()
    assert code not in (0, None), f"accepted:\n{err}"
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), err
    assert snapshot(ws) == before, "the command changed the workspace"
    return lines[0]


def run_finding(ws: Path):
    """verify's finding about the run."""
    return next(f for f in verify([RUN], ws / "corpora", ws / "runs") if f.what == "run" and f.name == RUN)


@pytest.mark.parametrize("what,command,damage,name", DAMAGED_CASES, ids=[c[0] for c in DAMAGED_CASES])
def test_a_damaged_artefact_is_refused_in_one_line_and_verify_reports_it(what, command, damage, name, ws, capsys):
    damage(ws)
    line = run_damaged(command, ws, capsys)
    assert name in line and "topicvae verify" in line, line
    finding = run_finding(ws)
    assert finding.status == DAMAGED and name in finding.detail, finding.line()


def test_verify_says_config_json_was_changed_after_the_run_was_saved(ws):
    edit_config(n_topics=K + 1)(ws)
    assert "config.json was changed after the run was saved" in run_finding(ws).detail


def test_verify_reports_every_artefact_that_contradicts_the_config(ws):
    npy(f"{F}/topic_word.npy", np.full((K, V), np.nan))(ws)
    npy(f"{F}/z_mean.npy", np.zeros((10, K), np.float32))(ws)
    detail = run_finding(ws).detail
    assert "topic_word.npy" in detail and "not finite" in detail and "z_mean.npy has shape (10, 4)" in detail, detail


def test_doc_topic_rows_that_are_no_distributions_are_refused(ws, capsys):
    npy(f"{F}/doc_topic.npy", np.full((N_DOCS, K), 0.5, np.float32))(ws)  # the right shape, rows sum to 2
    assert "doc_topic.npy" in run_damaged(f"export {RUN} --out {{ws}}/o.csv", ws, capsys)


def test_a_run_saved_before_config_had_a_digest_still_loads_and_verifies(ws, capsys):
    drop_config_digest(ws)
    finding = run_finding(ws)
    assert finding.status == OK, finding.line()
    code, out, err = run_cli(argv_for(f"topics {RUN}", ws), capsys)
    assert code == 0 and out and not err, err


def test_a_run_saved_before_config_had_a_digest_is_still_checked_against_its_arrays(ws, capsys):
    drop_config_digest(ws)
    edit_config(n_topics=K + 1)(ws)
    line = run_damaged(f"topics {RUN}", ws, capsys)
    assert f"topic_word.npy has shape ({K}, {V}) but the run has K = {K + 1} topics over {V} words" in line, line
    assert run_finding(ws).status == DAMAGED


# ---------------------------------------------------------------------------- the dashboard
@pytest.mark.parametrize("page", ["topics", "documents", "downloads"])
def test_a_dashboard_page_shows_the_damage_in_one_line_instead_of_raising(page, tmp_path_factory, tmp_path,
                                                                          monkeypatch):
    """The app's sample runs (tests/app_support.py), copied, with a doc_topic.npy of 10 rows (a valid header)."""
    pytest.importorskip("streamlit")
    from app_support import PRODLDA_RUN, build_app_data, open_page

    corpora, runs = build_app_data(tmp_path_factory.getbasetemp() / "app-data")
    mine = tmp_path / "runs"
    shutil.copytree(runs, mine)
    monkeypatch.setenv("TOPICVAE_CORPORA_DIR", str(corpora))
    monkeypatch.setenv("TOPICVAE_RUNS_DIR", str(mine))
    k = json.loads((mine / PRODLDA_RUN / "config.json").read_text())["n_topics"]
    np.save(mine / PRODLDA_RUN / "doc_topic.npy", rows(10, k).astype(np.float32))
    at = open_page(page, PRODLDA_RUN)
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] and all("doc_topic.npy" in e.value for e in at.error), \
        [e.value for e in at.error]
