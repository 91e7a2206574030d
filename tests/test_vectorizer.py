"""The fitted Vectorizer: phrases learned once and saved, transform equal to the corpus's own
counts, save/load as JSON, older corpora without vectorizer.json, C_v's reference tokens."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest

from topicvae import Corpus, ingest
from topicvae.text.phrases import PhraseModel
from topicvae.text.settings import VocabSettings
from topicvae.text.vectorizer import VECTORIZER_FILE, Vectorizer, corpus_vectorizer, reference_tokens

PHRASES = VocabSettings(min_df=2, max_df=0.9, min_tokens=2, phrases=True, phrase_min_count=3, phrase_threshold=1.0)
FILLER = ("river mountain forest valley garden harbour bridge castle market library theatre museum "
          "engine rocket planet comet galaxy orbit cricket tennis soccer hockey violin guitar piano").split()


def _texts(n: int = 240, seed: int = 0) -> list[str]:
    """Short documents where "new york" and "prime minister" recur, among filler words;
    "york" and "minister" also turn up alone, so joining the pairs changes the counts."""
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        words = rng.sample(FILLER, 6)
        if i % 3 == 0:
            words.insert(rng.randrange(7), "new york")
        if i % 4 == 0:
            words.insert(rng.randrange(7), "prime minister")
        if i % 10 == 1:  # in the train split, which learns the vocabulary
            words.insert(rng.randrange(len(words) + 1), "york")
        if i % 10 == 6:
            words.insert(rng.randrange(len(words) + 1), "minister")
        texts.append(" ".join(words))
    return texts


@pytest.fixture(scope="module")
def phrase_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("vec")
    texts = _texts()
    split = ["test" if i % 5 == 0 else "train" for i in range(len(texts))]
    pd.DataFrame({"id": [f"d{i}" for i in range(len(texts))], "text": texts, "split": split}).to_csv(
        root / "docs.csv", index=False)
    from topicvae.text.sources import TableColumns

    return ingest(str(root / "docs.csv"), "phr", corpora_dir=root / "corpora", vocab=PHRASES,
                  columns=TableColumns(id="id", split="split"))


def test_the_phrase_corpus_has_phrases(phrase_corpus):
    assert {"new_york", "prime_minister"} <= set(phrase_corpus.vocab)
    j = phrase_corpus.vocab.index("new_york")
    assert phrase_corpus.bow[:, j].sum() > 50
    assert {"york", "minister"} <= set(phrase_corpus.vocab)  # the lone words stay words


def test_vectorizer_saved_with_checksum_and_size(phrase_corpus):
    folder = phrase_corpus.path
    manifest = json.loads((folder / "manifest.json").read_text())
    from topicvae.paths import sha256_file

    assert manifest["checksums"][VECTORIZER_FILE] == sha256_file(folder / VECTORIZER_FILE)
    assert manifest["sizes"][VECTORIZER_FILE] == (folder / VECTORIZER_FILE).stat().st_size
    saved = json.loads((folder / VECTORIZER_FILE).read_text())
    assert saved["vocabulary"] == phrase_corpus.vocab and "new_york" in saved["phrases"]["scores"]


def test_transform_reproduces_the_corpus_counts(phrase_corpus):
    loaded = Corpus.load("phr", phrase_corpus.path.parent)
    vec = corpus_vectorizer(loaded)
    assert vec.phrases is not None and len(vec.phrases) >= 2
    X = vec.transform(loaded.docs["text"].tolist())
    assert X.shape == loaded.bow.shape and X.dtype == loaded.bow.dtype
    assert (X != loaded.bow).nnz == 0
    # without the phrase model the same texts give other counts: the phrases matter here
    plain = Vectorizer(vec.preprocess, vocabulary=vec.vocabulary).transform(loaded.docs["text"].tolist())
    assert (plain != loaded.bow).nnz > 0


def test_save_load_round_trip(phrase_corpus, tmp_path):
    vec = corpus_vectorizer(Corpus.load("phr", phrase_corpus.path.parent))
    vec.save(tmp_path)
    again = Vectorizer.load(tmp_path)
    assert again.to_dict() == vec.to_dict()
    texts = ["the prime minister moved to new york", "york and minister, alone"]
    assert (again.transform(texts) != vec.transform(texts)).nnz == 0
    first = again.tokens(texts)[0]
    assert "new_york" in first and "prime_minister" in first and "york" not in first


def test_phrase_join_is_what_gensim_does(phrase_corpus):
    from gensim.models.phrases import Phrases

    docs = Vectorizer().tokens(_texts(seed=1))
    settings = VocabSettings(phrase_min_count=3, phrase_threshold=1.0)
    frozen = Phrases(docs, min_count=3, threshold=1.0, delimiter="_").freeze()
    ours = PhraseModel.learn(docs, settings)
    assert len(ours) > 0 and ours.scores == pytest.approx(frozen.phrasegrams)
    assert [ours.join(d) for d in docs] == [frozen[d] for d in docs]
    assert ours.join(["new", "york", "york", "new", "york"]) == frozen[["new", "york", "york", "new", "york"]]


def test_fit_then_transform_equals_fit_transform():
    texts = _texts(60)
    vec = Vectorizer(vocab=PHRASES)
    X = vec.fit_transform(texts)
    assert "new_york" in vec.vocabulary
    assert (Vectorizer(vocab=PHRASES).fit(texts).transform(texts) != X).nnz == 0
    with pytest.raises(Exception, match="fit it first"):
        Vectorizer().transform(texts)


def test_reference_tokens_hold_phrases(phrase_corpus):
    loaded = Corpus.load("phr", phrase_corpus.path.parent)
    rows = loaded.split_rows("test")
    tokens = reference_tokens(loaded, rows)
    assert len(tokens) == len(rows)
    flat = [t for doc in tokens for t in doc]
    assert "new_york" in flat and "prime_minister" in flat
    # each document's vocabulary tokens are exactly its counts
    for doc, row in zip(tokens, rows):
        assert sum(t in set(loaded.vocab) for t in doc) == loaded.bow[row].sum()


def test_old_corpus_without_vectorizer_file(phrase_corpus, tmp_path):
    import shutil

    shutil.copytree(phrase_corpus.path, tmp_path / "phr")
    (tmp_path / "phr" / VECTORIZER_FILE).unlink()
    old = Corpus.load("phr", tmp_path)
    vec = corpus_vectorizer(old)
    assert vec.phrases is None and vec.vocabulary == old.vocab  # as before phrase models were saved
    assert vec.preprocess.min_token_len == old.manifest["preprocess"]["min_token_len"]
    assert vec.transform(["prime minister in new york"]).sum() > 0
    assert np.all([t.count("_") == 0 for d in reference_tokens(old) for t in d])


def test_tokenizing_keeps_its_old_import_path():
    import topicvae
    from topicvae.corpus import ingestion
    from topicvae.text import tokenize

    assert ingestion.tokenize_texts is tokenize.tokenize_texts and ingestion.TokenizedTexts is tokenize.TokenizedTexts
    assert topicvae.Vectorizer is Vectorizer
    tok = ingestion.tokenize_texts(["Apples grow on trees.", "Pears too"], Vectorizer().preprocess)
    assert tok.token_lists() == [["apple", "grow", "tree"], ["pear"]]


def test_c_v_sees_the_phrase_tokens(phrase_corpus):
    """evaluate's C_v reference texts are the vectorizer's tokens: phrases joined as the counts were."""
    from topicvae.analysis.run_metrics import _reference_texts

    rows = phrase_corpus.split_rows("test")
    texts = _reference_texts(phrase_corpus, rows)
    assert len(texts) == len(rows) and sum(t.count("new_york") for t in texts) > 5
    j = phrase_corpus.vocab.index("new_york")
    assert sum(t.count("new_york") for t in texts) == phrase_corpus.bow[rows][:, j].sum()


def test_verify_checks_the_vectorizer_file(phrase_corpus, tmp_path):
    import shutil

    from topicvae.analysis.verify import DAMAGED, OK, check_corpus

    root = tmp_path / "corpora"
    shutil.copytree(phrase_corpus.path, root / "phr")
    assert check_corpus(root, "phr").status == OK
    (root / "phr" / VECTORIZER_FILE).write_text((root / "phr" / VECTORIZER_FILE).read_text().replace("new_york", "new_yorx"))
    assert check_corpus(root, "phr").status == DAMAGED


def test_over_vocabulary_reindexes_a_partitions_counts_sorted_and_drops_other_types():
    """A partition's counts over its own types → over the vocabulary: each row's columns in order
    (the shards' bytes depend on it), types outside the vocabulary dropped, empty rows kept."""
    import scipy.sparse as sp

    from topicvae.text.vocabulary import over_vocabulary

    types = ["d", "a", "x", "c", "b"]  # the partition's own numbering; "x" is not in the vocabulary
    dense = np.array([[1, 2, 3, 0, 4],
                      [0, 0, 0, 0, 0],
                      [0, 0, 5, 0, 0],
                      [2, 0, 0, 1, 0],
                      [0, 0, 0, 0, 0]], dtype=np.int32)
    X = sp.csr_matrix(dense)
    vocab = ["a", "b", "c", "d"]
    Y = over_vocabulary(X, types, {w: j for j, w in enumerate(vocab)}, len(vocab))
    expected = np.array([[2, 4, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 2], [0, 0, 0, 0]])
    assert Y.shape == (5, 4) and (Y.toarray() == expected).all()
    assert Y.indptr.tolist() == [0, 3, 3, 3, 5, 5] and Y.indices.tolist() == [0, 1, 3, 2, 3]
    assert Y.data.dtype == np.int32 and Y.has_canonical_format
    assert (X.toarray() == dense).all()
    unsorted = over_vocabulary(X, types, {w: j for j, w in enumerate(vocab)}, len(vocab), sort=False)
    assert unsorted.indices.tolist() == [3, 0, 1, 3, 2]  # row 0's columns as the partition's types came
    assert (unsorted.toarray() == expected).all()
    unsorted.sort_indices()
    assert unsorted.indices.tolist() == Y.indices.tolist() and unsorted.data.tolist() == Y.data.tolist()
