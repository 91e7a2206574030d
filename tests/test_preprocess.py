"""Cleaning and tokenizing: newsgroup stripping, encoded lines, the cached spaCy tokenizer."""

from __future__ import annotations

import base64
import binascii
import random
from collections import Counter

import pytest

from topicvae.text.settings import PreprocessSettings
from topicvae.text.preprocess import (Tokenizer, clean_text, drop_encoded_lines, is_encoded_line, strip_headers,
                                      strip_quotes, strip_signature)

POST = """From: someone@example.com
Subject: Re: engines
Organization: Somewhere
Lines: 9

In article <123@example.com> other@example.com writes:
> The BMW engine is loud.
| and quoted again
I think the BMW engine runs fine at 5000 rpm.

--
Someone, somewhere
"""


def test_strippers_follow_scikit_learn_rules():
    body = strip_headers(POST)
    assert "Subject" not in body and body.startswith("In article")
    unquoted = strip_quotes(body)
    assert "writes:" not in unquoted and "loud" not in unquoted and "quoted again" not in unquoted
    assert "runs fine" in unquoted
    assert "Someone, somewhere" not in strip_signature(unquoted)
    pasted = "NASA launched the shuttle today.\n\nThe crew is safe."
    assert strip_headers(pasted) == pasted  # no header block: nothing to strip


def test_strippers_match_scikit_learn_on_real_posts(news_archive):
    from sklearn.datasets._twenty_newsgroups import (strip_newsgroup_footer, strip_newsgroup_header,
                                                     strip_newsgroup_quoting)

    from topicvae.text.sources import read_source

    docs = list(read_source(str(news_archive)))
    random.Random(0).shuffle(docs)
    for d in docs[:1500]:
        assert strip_headers(d.text) == strip_newsgroup_header(d.text)
        assert strip_quotes(d.text).rstrip("\n") == strip_newsgroup_quoting(d.text).rstrip("\n")
        assert strip_signature(d.text) == strip_newsgroup_footer(d.text)


def test_encoded_lines_are_detected_by_line():
    rng = random.Random(1)
    payload = bytes(rng.randrange(256) for _ in range(450))
    uu = [binascii.b2a_uu(payload[i:i + 45]).decode().rstrip("\n") for i in range(0, 450, 45)]
    b64 = base64.encodebytes(payload).decode().splitlines()
    for line in uu + b64[:-1]:
        assert is_encoded_line(line), line
    prose = ["I bought a BMW with 300 mhz of ftp power from the NHL; pgp signed.",
             "See http://www.example.com/some/very/long/path/to/a/page.html for details",
             "XDrawLine(dpy,win,gc_red,x1,y1,x2,y2);",
             "File:RomaniaDanubeDelta MakingMaterialForConstructing0003jpg.JPG|Still in production",
             "AHL CALDER CUP PLAYOFF GAME(S) PLAYED ON 4/16 AND MORE GAMES TO COME",
             "Article-I.D.: nmt.1993Apr29.052044.23918"]
    for line in prose:
        assert not is_encoded_line(line), line
    text = "\n".join(["Here is the file you asked for:", "begin 644 x.exe", *uu, "end", "Enjoy the program."])
    cleaned, dropped = drop_encoded_lines(text)
    assert dropped == len(uu)
    assert "Here is the file" in cleaned and "Enjoy the program." in cleaned


def test_the_quick_check_for_a_long_run_agrees_with_the_regex_on_any_whitespace():
    """drop_encoded_lines looks at the lines of a text only when has_long_run says it has a run of
    LONG_RUN characters without whitespace: the texts the regex \\S{40,} finds one in, whatever Unicode
    whitespace separates them."""
    from topicvae.text import preprocess

    rng = random.Random(2)
    spaces = [" ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\u3000"]
    others = ["a", "Z", "9", "+", "/", "=", "\u200b", "é", "\x00"]  # \u200b: zero width, not whitespace
    for _ in range(3000):
        text = "".join(rng.choice(spaces) if rng.random() < 0.08 else rng.choice(others)
                       for _ in range(rng.randint(0, 120)))
        assert preprocess.has_long_run(text) == bool(preprocess._LONG_RUN.search(text)), repr(text)


def test_tokenizer_filters_and_lemmatizes():
    tok = Tokenizer(PreprocessSettings())
    toks = tok("The mice were running to https://example.org/x and mail@example.com, "
               "didn't they? 42 cats; 3.5 GHz! Numbers of the United States")
    assert "mouse" in toks and "run" in toks and "cat" in toks
    assert "number" in toks and "united" in toks  # common words are kept over rare lookup senses
    assert not any(t in toks for t in ("the", "were", "they", "42", "3.5", "didn", "n't"))
    assert not any("example" in t or "@" in t for t in toks)
    assert all(len(t) >= 3 and t == t.lower() for t in toks)


def test_tokenizer_options():
    text = "The MP3 players and x11 windows"
    assert "mp3" not in Tokenizer(PreprocessSettings())(text)
    assert "mp3" in Tokenizer(PreprocessSettings(keep_alnum=True))(text)
    assert "players" in Tokenizer(PreprocessSettings(lemmatize=False))(text)
    assert "the" in Tokenizer(PreprocessSettings(stopwords=False))(text)
    assert "window" not in Tokenizer(PreprocessSettings(extra_stopwords=("window",)))(text)
    assert "and" in Tokenizer(PreprocessSettings(stopwords=False, min_token_len=2))(text)


def test_cached_tokenizer_agrees_with_plain_spacy(news_archive):
    """The per-chunk cache gives (almost) the tokens spaCy gives on the whole document."""
    from topicvae.text.sources import read_source

    settings = PreprocessSettings(strip=("headers", "quotes", "signatures"))
    docs = list(read_source(str(news_archive)))
    random.Random(2).shuffle(docs)
    texts = [clean_text(d.text, settings)[0] for d in docs[:800]]
    fast = Tokenizer(settings).batch(texts)
    ref = Tokenizer(settings)
    same = total = 0
    for text, mine in zip(texts, fast):
        theirs = [t for t in (ref._token(x) for x in ref.nlp.tokenizer(text.lower())) if t]
        a, b = Counter(theirs), Counter(mine)
        same += sum((a & b).values())
        total += max(sum(a.values()), sum(b.values()))
    assert same / total > 0.99


@pytest.mark.parametrize("bad", [("headers", "footer"), ("nope",)])
def test_unknown_strip_part(bad):
    from topicvae.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown --strip part"):
        PreprocessSettings(strip=bad)


def test_italian_lemmas_merge_the_part_of_speech_tables():
    from topicvae.text.languages import lemma_tables, load_lemmas

    if "noun" not in lemma_tables().get("it", ()):
        pytest.skip("this spacy-lookups-data has no Italian per-part-of-speech tables")
    lemmas = load_lemmas("it")
    # a dictionary form stays; otherwise the noun wins over the verb
    assert lemmas["importante"] == "importante" and lemmas["opera"] == "opera" and lemmas["partita"] == "partita"
    assert lemmas["stati"] == "stato" and lemmas["giochi"] == "gioco" and lemmas["mangiava"] == "mangiare"
    tok = Tokenizer(PreprocessSettings(lang="it"))
    assert tok("Un'opera importante e le partite dei giochi olimpici") == ["opera", "importante", "partita",
                                                                          "gioco", "olimpico"]
    assert Tokenizer(PreprocessSettings(lang="it", stopwords=False))("della che") == ["della", "che"]
