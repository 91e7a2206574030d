"""Every setting of the topic models, declared once.

A :class:`Setting` says, for one setting: the models that take it and its default in each, what a
default of None means (its automatic rule, in words), the values it accepts (its :class:`Kind`) and
what it does, in one line. Everything else is made from these declarations:

- the models' constructors and ``get_params`` (:meth:`topicvae.models.base.TopicModel.__init__`):
  a model takes exactly the settings declared for it, with these defaults;
- the models' ``check_params``: each value checked against its kind (:func:`check`), with one line
  that names the setting and what it must be; a model adds only checks that involve several settings
  or the data;
- the ``topicvae train`` flags (``--batch-size`` for ``batch_size``) and their help
  (:func:`flag_help`);
- docs/settings.md (:func:`table`; ``python -m topicvae.models.settings`` prints it, and a test
  keeps the two equal).

torch-free, so that the command line reads it without loading torch.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

VAES = ("prodlda", "nvdm", "gsm")
PRODLDAS = ("prodlda", "gsm")  # ProdLDA's decoder: ProdLDA, and GSM with its standard normal prior
MODELS = (*VAES, "lda")

#: numpy's random seeds are 32 bits
MAX_SEED = 2 ** 32 - 1
#: the VAEs' likelihoods: the word counts (multinomial) or each word's presence (Bernoulli)
LIKELIHOODS = ("multinomial", "bernoulli")
#: how ProdLDA's topic embeddings start
TOPIC_INITS = ("clusters", "random")
#: the words ProdLDA's encoder reads: the topic vocabulary, or every word
ENCODER_VOCABULARIES = ("topic", "all")
#: what ProdLDA's encoder reads of each word of a document: log2(1 + count), or the count itself
ENCODER_INPUTS = ("log", "counts")


# ---------------------------------------------------------------------------- kinds of value
class Kind:
    """The values a setting accepts: :meth:`accepts` checks one, :meth:`expect` says in words what they
    are (for errors and docs), :meth:`parse` reads one from the command line: ``convert`` turns the
    text into a value (``what`` names what the text should look like), which must then be accepted;
    ValueError with the reason when it is not."""

    what = "a value"

    def accepts(self, value) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def expect(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def convert(self, text: str):
        return text

    def parse(self, text: str):
        try:
            value = self.convert(text)
        except ValueError:
            raise ValueError(f"expected {self.what}, got {text!r}") from None
        if not self.accepts(value):
            raise ValueError(f"expected {self.expect()}, got {text!r}")
        return value


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class Whole(Kind):
    """An integer from ``minimum`` (to ``maximum``); ``none``: what None means, when None is allowed."""

    minimum: int = 0
    maximum: int | None = None
    none: str | None = None
    what = "a whole number"
    convert = staticmethod(int)

    def accepts(self, value) -> bool:
        if value is None:
            return self.none is not None
        return _is_int(value) and value >= self.minimum and (self.maximum is None or value <= self.maximum)

    def expect(self) -> str:
        what = (f"a whole number from {self.minimum} to {self.maximum:,}" if self.maximum is not None
                else f"a whole number, {self.minimum} or more")
        return what + (f" (None: {self.none})" if self.none else "")


@dataclass(frozen=True)
class Number(Kind):
    """A finite number of at least ``minimum`` (above it with ``above``), below ``below`` when given;
    ``none``: what None means, when None is allowed."""

    minimum: float = 0.0
    above: bool = False
    below: float | None = None
    none: str | None = None
    what = "a number"
    convert = staticmethod(float)

    def accepts(self, value) -> bool:
        if value is None:
            return self.none is not None
        if not _is_number(value) or not math.isfinite(value):
            return False
        low = value > self.minimum if self.above else value >= self.minimum
        return low and (self.below is None or value < self.below)

    def expect(self) -> str:
        low = f"above {self.minimum:g}" if self.above else f"{self.minimum:g} or more"
        what = f"a number {low}" + (f" and below {self.below:g}" if self.below is not None else "")
        return what + (f" (None: {self.none})" if self.none else "")


@dataclass(frozen=True)
class Choice(Kind):
    """One of ``options`` (strings)."""

    options: tuple[str, ...]

    def accepts(self, value) -> bool:
        return isinstance(value, str) and value in self.options

    def expect(self) -> str:
        return "one of " + ", ".join(self.options)


@dataclass(frozen=True)
class Switch(Kind):
    """True or False; on the command line on/off (yes/no, true/false, 1/0)."""

    what = "on or off"

    def accepts(self, value) -> bool:
        return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", None) == "b"

    def expect(self) -> str:
        return "true or false (on or off)"

    def convert(self, text: str) -> bool:
        value = text.strip().lower()
        if value not in ("on", "yes", "true", "1", "off", "no", "false", "0"):
            raise ValueError(text)
        return value in ("on", "yes", "true", "1")


@dataclass(frozen=True)
class Sizes(Kind):
    """One or more positive integers, e.g. layer sizes; on the command line 200,200."""

    what = "comma-separated whole numbers"

    def accepts(self, value) -> bool:
        return isinstance(value, (list, tuple)) and len(value) >= 1 and all(_is_int(v) and v >= 1 for v in value)

    def expect(self) -> str:
        return "one or more positive layer sizes, e.g. 200,200"

    def convert(self, text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in text.split(",") if x.strip())


@dataclass(frozen=True)
class Fractions(Kind):
    """``length`` numbers each in [0, 1) (Adam's betas); on the command line 0.99,0.999."""

    length: int = 2
    what = "comma-separated numbers"

    def accepts(self, value) -> bool:
        return (isinstance(value, (list, tuple)) and len(value) == self.length
                and all(_is_number(v) and 0 <= v < 1 for v in value))

    def expect(self) -> str:
        return f"{self.length} numbers in [0, 1)"

    def convert(self, text: str) -> tuple[float, ...]:
        return tuple(float(x) for x in text.split(","))


@dataclass(frozen=True)
class Text(Kind):
    """Any text (what it means, the model checks)."""

    def accepts(self, value) -> bool:
        return isinstance(value, str)

    def expect(self) -> str:
        return "text"


@dataclass(frozen=True)
class ModelChecked(Kind):
    """A value the model checks itself, against the data or other settings (``expected`` says what it
    takes); on the command line read by ``reader`` (None: no flag)."""

    expected: str
    reader: Kind | None = None

    def accepts(self, value) -> bool:
        return True

    def expect(self) -> str:
        return self.expected

    def parse(self, text: str):
        if self.reader is None:
            raise ValueError("not a command-line setting")
        return self.reader.parse(text)


# ---------------------------------------------------------------------------- the declaration
@dataclass(frozen=True)
class Setting:
    """One setting: ``default`` (one value, or a dict model → value), the ``models`` that take it, its
    ``kind``, a one-line ``help``, ``automatic`` (what a default of None does, in words), ``flag``
    (whether ``topicvae train`` has a flag for it) and ``flag_kind`` (what the flag reads, where it
    is narrower than the setting: ``--epochs`` takes no 0, the untrained network, which is for measuring)."""

    name: str
    models: tuple[str, ...]
    default: Any
    kind: Kind
    help: str
    automatic: str | None = None
    flag: bool = True
    kinds: dict = field(default_factory=dict)  # model → Kind, where a model takes other values
    flag_kind: Kind | None = None

    def default_of(self, model: str) -> Any:
        return self.default[model] if isinstance(self.default, dict) else self.default

    def kind_of(self, model: str) -> Kind:
        return self.kinds.get(model, self.kind)

    def read(self, text: str):
        """The flag's text as a value (ValueError with the reason when it is not one)."""
        return (self.flag_kind or self.kind).parse(text)

    @property
    def option(self) -> str:
        """The command-line flag: ``--batch-size`` for ``batch_size``."""
        return "--" + self.name.replace("_", "-")


_AUTO = "automatic"

SETTINGS: dict[str, Setting] = {s.name: s for s in [
    # -------------------------------------------------------------- every model
    Setting("n_topics", MODELS, 20, Whole(2), "the number of topics K", flag=False),
    Setting("seed", MODELS, 0, Whole(0, MAX_SEED), "seeds everything random in the fit: the same seed and "
            "threads give the same model on the CPU"),
    Setting("threads", MODELS, None, Whole(1, none="the library's default"),
            "CPU threads of the fit: torch's (VAEs) or BLAS's (LDA)"),
    # -------------------------------------------------------------- the VAEs' training
    Setting("epochs", VAES, {"prodlda": None, "gsm": None, "nvdm": 100}, Whole(0, none=_AUTO),
            "passes over the training documents",
            flag_kind=Whole(1),
            automatic="60 on documents of 30 tokens or more on average (30 with bn_anneal 0); 10 on shorter ones, "
                      "then, when those epochs take fewer than 1,000 steps, 500 steps of the encoder alone on "
                      "the fixed topics"),
    Setting("batch_size", VAES, 200, Whole(2), "documents per step"),
    Setting("lr", VAES, 2e-3, Number(0, above=True), "Adam's learning rate"),
    Setting("betas", VAES, (0.99, 0.999), Fractions(2), "Adam's betas", flag=False),
    Setting("patience", VAES, {"prodlda": 0, "gsm": 0, "nvdm": 10}, Whole(0),
            "stop after this many epochs without a better validation ELBO and keep the best (0: never stop "
            "early, keep the last)"),
    Setting("val_fraction", VAES, 0.1, Number(0, below=1), "share of the training documents held out to "
            "validate on"),
    Setting("kl_warmup", VAES, 0, Whole(0), "epochs over which the KL term's weight rises from 0 to 1"),
    Setting("clip_norm", VAES, 5.0, Number(0, none="no clipping"), "gradient-norm clipping (0: off)"),
    Setting("device", VAES, "auto", ModelChecked("auto, cpu, cuda or cuda:N", Text()),
            "where to train: auto (a GPU when there is one), cpu or cuda"),
    # -------------------------------------------------------------- the VAEs' networks
    Setting("hidden", VAES, (200, 200), Sizes(), "the encoder's layer sizes"),
    Setting("dropout", VAES, 0.2, Number(0, below=1), "dropout in the encoder"),
    Setting("likelihood", VAES, "multinomial", Choice(LIKELIHOODS),
            "multinomial (the word counts) or bernoulli (each word's presence; for short texts; its "
            "perplexity is not comparable)"),
    # -------------------------------------------------------------- ProdLDA's (and GSM's) prior and decoder
    Setting("alpha", ("prodlda", "lda"), {"prodlda": 1.0, "lda": "symmetric"}, Number(0, above=True),
            "the Dirichlet prior of each topic in a document (ProdLDA: its logistic-normal approximation; "
            "LDA: also symmetric, asymmetric, auto or K numbers)",
            kinds={"lda": ModelChecked("symmetric, asymmetric, auto, a positive number or K positive numbers",
                                       Number(0, above=True))}),
    Setting("theta_dropout", PRODLDAS, 0.2, Number(0, below=1), "dropout on θ before the decoder"),
    Setting("embedding_dim", PRODLDAS, None, Whole(0, none=_AUTO),
            "β through word embeddings of this size, from the training documents' co-occurrence (0: a free β)",
            automatic="200, or 2.5 per topic on documents under 30 tokens on average"),
    Setting("context_smoothing", PRODLDAS, 0.75, Number(0), "the embeddings' PPMI takes each context word's "
            "share of the documents to this power (1: plain PMI)"),
    Setting("topic_init", PRODLDAS, "clusters", Choice(TOPIC_INITS), "how the topics start: clusters (groups "
            "of words that occur in the same documents) or random"),
    Setting("topic_lr", PRODLDAS, None, Number(0, none=_AUTO), "the topics' learning rate as a share of lr",
            automatic="1 with the decoder's batch norm annealed away, else 0.1 when the topics start from "
                      "clusters, else 1"),
    Setting("topic_epochs", PRODLDAS, None, Whole(0, none=_AUTO),
            "the topics (the decoder) learn in the first N epochs only, the encoder in all",
            automatic="with epochs automatic, as its rule says; else every epoch"),
    Setting("bn_anneal", PRODLDAS, None, Number(0, none=_AUTO),
            "anneal the decoder's batch norm away over the first N epochs (0: keep it)",
            automatic="45 on documents of 30 tokens or more on average, 0 on shorter ones"),
    Setting("beta_decay", PRODLDAS, 0.0, Number(0), "decoupled weight decay of the topics (0: off)"),
    Setting("diversity", PRODLDAS, 10.0, Number(0), "weight of the term that keeps topics from sharing their "
            "words (0: off)"),
    Setting("min_topic_df", PRODLDAS, None, Whole(0, none=_AUTO),
            "only words in at least N training documents may carry topic weight (0: every word)",
            automatic="20 documents, and at most the 2,500 most widespread words"),
    Setting("encoder_vocabulary", PRODLDAS, "topic", Choice(ENCODER_VOCABULARIES),
            "the words the encoder reads: topic (those that may carry topic weight) or all"),
    Setting("encoder_scale", PRODLDAS, False, Switch(), "the encoder's batch norm learns a scale, so the KL "
            "term decides how far documents spread in z"),
    Setting("encoder_input", PRODLDAS, "log", Choice(ENCODER_INPUTS),
            "what the encoder reads of each word: log (log2(1 + its count): once weighs 1, 20 times 4.4) or "
            "counts"),
    # -------------------------------------------------------------- guided topics
    Setting("seed_topics", ("prodlda", "gsm", "lda"), None,
            ModelChecked("None, or one list of vocabulary ids per seeded topic 0, 1, ..."),
            "guided topics: the seed words of topics 0, 1, ... (topicvae train --seed-topics FILE)", flag=False),
    Setting("seed_strength", ("prodlda", "gsm", "lda"), {"prodlda": 3.0, "gsm": 2.0, "lda": 3.0}, Number(0),
            "with seed topics: the seed words' lead in their topic (ProdLDA, GSM: in standard deviations of "
            "β; LDA: prior pseudo-counts as a share of their count in the training documents)"),
    Setting("seed_prior_shift", PRODLDAS, 0.3, Number(0), "with seed topics: how much lower a seeded topic's "
            "prior is in documents without its seed words (0: off)"),
    # -------------------------------------------------------------- LDA (gensim)
    Setting("passes", ("lda",), 10, Whole(1), "passes over the training documents"),
    Setting("iterations", ("lda",), 50, Whole(1), "inference iterations per document"),
    Setting("eta", ("lda",), None, ModelChecked("None (symmetric), symmetric, auto, a positive number or V "
                                                "(or K × V) positive numbers"),
            "the prior of each word in a topic", flag=False),
    Setting("chunksize", ("lda",), 2000, Whole(1), "documents per online update"),
    Setting("workers", ("lda",), 1, Whole(1), "worker processes (more than 1: gensim's LdaMulticore)"),
    Setting("eval_every", ("lda",), None, Whole(1, none="off"), "gensim's own perplexity log every N updates",
            flag=False),
    Setting("history_docs", ("lda",), 1000, Whole(0), "training documents sampled for the per-pass bound in "
            "the history (0: none)"),
]}


#: what a setting does and why, beyond its one-line help, where there is more to say (docs/settings.md prints it)
DETAILS: dict[str, str] = {
    "epochs": (
        "In Python also 0: the network as initialised, without training (for measuring what training "
        "does; `topicvae train` takes 1 or more)."
    ),
    "seed": (
        "VAEs: seeds initialisation, the validation slice, shuffling, sampling and dropout; the same seed "
        "and thread count give bitwise the same model on CPU. LDA: seeds the topic initialisation, training "
        "and the inference start point."
    ),
    "threads": (
        "VAEs: torch CPU threads while fitting (None: torch's default). LDA: the BLAS threads of each "
        "process while fitting and inferring (None: the library's default), the same running setting as the "
        "VAEs' torch threads."
    ),
    "patience": (
        "Stop after this many epochs without a better validation ELBO and keep the best epoch's weights (0: "
        "never stop early, keep the last epoch's weights)."
    ),
    "val_fraction": (
        "Share of the documents held out for early stopping (0: none; then the weights of the last epoch "
        "are kept)."
    ),
    "likelihood": (
        "'multinomial' (the word counts; the default) or 'bernoulli' (each word's presence in the document, "
        "one Bernoulli per vocabulary entry; counts ignored). For short texts, where nearly every count is "
        "1, the two see the same data, but the Bernoulli decoder also learns from the words a document "
        "lacks. Its ELBO is a bound on the probability of the presence pattern, so its perplexity is not "
        "comparable with a multinomial model's."
    ),
    "alpha": (
        "VAEs: Dirichlet prior concentration per topic (a float, the same for all topics). LDA: document- "
        "topic prior: 'symmetric' (1/K, gensim's default), 'asymmetric', 'auto' (learned; single worker "
        "only), a positive float, or K positive floats."
    ),
    "embedding_dim": (
        "D > 0 factorises the decoder as β = ρ T: ρ (V, d) are word embeddings computed at the start of "
        "`fit` from the training documents' own co-occurrence (PPMI + truncated SVD, "
        "`word_embeddings.ppmi_embeddings`; fixed, saved with the model), T (d, K) topic embeddings are "
        "learned. Words that occur together share a direction, so a topic's most probable words co-occur. "
        "Capped at V − 1. 0: β is a free V × K matrix (the paper's decoder). None (the default): 200, or "
        "2.5 per topic on short documents (`automatic_embedding_dim`); the d chosen is "
        "`embedding_dim_` after `fit`."
    ),
    "context_smoothing": (
        "A of the embeddings' PPMI (`word_embeddings.ppmi_embeddings`), 0 or more: each context word's "
        "share of the documents is taken as its document frequency to the power a, renormalised (context "
        "distribution smoothing, Levy, Goldberg & Dagan 2015). Plain PMI (a = 1) rates a rare word met once "
        "with another as a strong association, and topics grown from such embeddings list words that co- "
        "occur in a few training documents only. 0.75 (the default) takes that bias out."
    ),
    "topic_init": (
        "How the topic embeddings T start (with `embedding_dim` > 0; a free β always starts at random). "
        "`clusters` (the default): at K balanced clusters of the word embeddings "
        "(`word_embeddings.embedding_clusters`: spherical k-means, then equal shares of the word mass by "
        "optimal transport), so every topic starts as a group of words that occur in the same documents; "
        "`random`: small random values. Trained from random values, the topics drift to words that "
        "explain the training documents but co-occur little elsewhere; from the clusters they keep the co- "
        "occurrence."
    ),
    "topic_lr": (
        "The learning rate of the topic embeddings (of β) as a share of `lr`, 0 or more: below 1 the "
        "topics refine their starting clusters rather than leave them."
    ),
    "topic_epochs": (
        "The decoder (the topics) learns in the first N epochs only; in the rest it is fixed and only the "
        "encoder trains, so that θ is inferred for the topics as they ended."
    ),
    "bn_anneal": (
        "The decoder's batch norm is annealed away over this many epochs: the logits are p·BN(βθ) + (1 − "
        "p)·(βθ + b), p falling linearly from 1 to 0 (SCHOLAR, Card et al. 2018). The norm keeps the early "
        "topics from collapsing onto the frequent words, but it divides each word's logit by its spread "
        "over the batch, so the likelihood cannot tell a sharp θ from a flat one and rare words weigh as "
        "much as frequent ones; the decoder left, βθ + b, has neither fault. Its topics are then read as "
        "SAGE's are: topic k is softmax(β_k), the background b (`background_`); while p > 0 (a run "
        "shorter than the anneal) topic k is p(w | θ = e_k) as without it. 0: the batch norm stays (the "
        "paper's decoder). None (the default): 45 epochs on long documents, with the topics learning at the "
        "full rate (`topic_lr` 1) for 60 epochs; 0 on short ones (docs/quality.md, \"The decoder's batch "
        "norm annealed away\")."
    ),
    "beta_decay": (
        "Decoupled weight decay (AdamW) of β (of T with embeddings): every step shrinks them by the share "
        "lr × beta_decay (must stay below 1). The decoder's batch norm hides β's scale from the likelihood, "
        "so the decay mostly decides which words keep weight in a topic: those the gradients keep pushing. "
        "0 (the default): none."
    ),
    "diversity": (
        "Weight λ of the balanced-assignment regulariser (optimal transport of the vocabulary onto the "
        "topics in equal shares, after ECRTM, Wu et al. 2023): it keeps topics from sharing their most "
        "probable words. 0: none. Its useful size depends on the decoder: the default, 10, suits the "
        "embedding decoder; on a free β (`embedding_dim=0`) it acts on every entry at once and costs "
        "coherence fast, so leave it at 0 there. Each word weighs in by the square root of its training "
        "frequency, so the rare words do not drive it."
    ),
    "min_topic_df": (
        "The topic vocabulary: only words in at least this many training documents get topic weight; the "
        "decoder explains the others by their background frequency alone, so no topic lists them. None (the "
        "default) chooses it (`topic_vocabulary`: 20 documents, and at most the 2,500 most widespread "
        "words); 0: every word. Rare words co-occur by chance in the few documents that hold them, and "
        "topics built on them do not hold up on other documents."
    ),
    "encoder_vocabulary": (
        "The words the encoder reads: `topic` (the default), the topic vocabulary (`min_topic_df`), or "
        "`all`, every word. The words outside the topic vocabulary are in too few documents to say much "
        "about a document's topics, and on a large vocabulary they are most of the encoder's first layer, "
        "the largest weight matrix of the network: reading the topic vocabulary only makes every step "
        "cheaper. The price is that the rare words (names, for one) no longer reach θ. The decoder still "
        "explains every word. Models saved before this setting read every word, and load so."
    ),
    "encoder_scale": (
        "Give the batch norm of the encoder's outputs (μ and log σ²) a learned scale. Without one (the "
        "default, as ProdLDA's authors) every μ_k spreads over the documents with unit variance, which "
        "costs about K/2 nats of KL per document whatever the data: a bound that is loose on short "
        "documents. With one the KL term decides the spread; the bound tightens, and θ is less spread out "
        "(docs/quality.md)."
    ),
    "encoder_input": (
        "What the encoder reads of each word of a document: `log` (the default), log2(1 + count), or "
        "`counts`, the count itself. With counts the first layer of a long document is dominated by its few "
        "most repeated words and grows with its length; the logarithm damps the repeats (a word 20 times "
        "weighs 4.4, once weighs 1, as a count does) and keeps which words occur, so short texts, whose "
        "words occur once, read the same either way. Only q(z|x) reads it: the decoder still explains the "
        "counts. Chosen on validation documents: a bound some 3 % tighter on long documents, the rest "
        "unchanged (docs/quality.md). Models saved before this setting read counts, and load so."
    ),
    "seed_topics": (
        "VAEs: guided topics: one list of vocabulary ids per seeded topic (topics 0, 1, ... in order, at "
        "most K lists; `topicvae.models.seeding` reads them from a file). Topic k's seed words join the topic "
        "vocabulary, its topic embedding starts at their mean embedding, and β of topic k gets a fixed lead "
        "of `seed_strength` standard deviations of β on them and, by cosine, on the words near them in "
        "the embedding (`networks.ProdLDANet.seed_lead`); seed words carry learned weight in their "
        "own topic only. The documents that use them so load on topic k; the other topics learn freely. "
        "None (the default): no seeds. `benchmarks/guided.py` measures it. LDA: guided topics: one list "
        "of vocabulary ids per seeded topic (topics 0, 1, ...; "
        ":attr:`topicvae.models.seeding.SeedTopics.indices`). η becomes a K × V matrix (the \"seeded LDA\" prior, "
        "`seeded_eta`): topic k's seed words get a large η there and a small one in every other "
        "topic, so their tokens, and the words they occur with, go to topic k."
    ),
    "seed_strength": (
        "VAEs: the lead of the seed words in their topic, in standard deviations of the learned β (used "
        "only with `seed_topics`); by default 3 for ProdLDA and 2 for GSM (chosen on validation documents, "
        "docs/guided.md). LDA: a seed word's prior pseudo-counts in its topic as a share of its count in the "
        "training documents (used only with `seed_topics`)."
    ),
    "seed_prior_shift": (
        "With `seed_topics`, how much lower (in z, the logistic-normal's scale) a seeded topic's prior "
        "mean is in a training document that holds none of its seed words "
        "(`networks.ProdLDANet.prior_mean`): a seeded topic then takes documents on evidence, and "
        "the short documents, which carry little, stop falling to it. 0: off; 0.3 by default. Too large a "
        "shift leaves the seeded topics few documents."
    ),
    "eta": (
        "Topic-word prior: None/'symmetric' (1/K), 'auto', a positive float, or an array of V (or K × V) "
        "positive floats."
    ),
    "workers": (
        "1 trains `LdaModel`; more trains `LdaMulticore` with that many worker processes (use at most "
        "the number of physical cores minus one)."
    ),
    "eval_every": (
        "gensim's own perplexity logging every that many updates (None: off; it slows training and draws "
        "from the training random state)."
    ),
    "history_docs": (
        "Size of the fixed random sample of training documents on which the per-word bound is measured "
        "after every pass for `history_`; 0 turns it off."
    ),
}


def names(model: str) -> list[str]:
    """The settings of ``model``, in declaration order (``n_topics`` first)."""
    return [s.name for s in SETTINGS.values() if model in s.models]


def defaults(model: str) -> dict[str, Any]:
    """Each setting of ``model`` with its default."""
    return {name: SETTINGS[name].default_of(model) for name in names(model)}


def problem(model: str, name: str, value) -> str | None:
    """Why ``value`` cannot be ``model``'s setting ``name``, in one line, or None when it can."""
    kind = SETTINGS[name].kind_of(model)
    return None if kind.accepts(value) else f"{name} must be {kind.expect()}, got {value!r}"


def check(model: str, values: dict) -> str | None:
    """The first of ``values`` (setting → value) that ``model`` cannot take, in one line, or None."""
    for name, value in values.items():
        reason = problem(model, name, value)
        if reason:
            return reason
    return None


def owners(name: str) -> tuple[str, ...]:
    """The models that take setting ``name`` (none when no model does)."""
    return SETTINGS[name].models if name in SETTINGS else ()


def _shown(setting: Setting, model: str) -> str:
    value = setting.default_of(model)
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if value is None:
        return getattr(setting.kind_of(model), "none", None) or "none"
    return str(value)


def _default_words(setting: Setting) -> str:
    """The default in words: one value, or per model where they differ."""
    by_value: dict[str, list[str]] = {}
    for m in setting.models:
        by_value.setdefault(_shown(setting, m), []).append(m)
    if len(by_value) == 1:
        return next(iter(by_value))
    return "; ".join(f"{', '.join(models)} {value}" for value, models in by_value.items())


def flag_help(setting: Setting) -> str:
    """The help of the setting's ``topicvae train`` flag: what it does, the models, the default."""
    auto = f" (automatic: {setting.automatic})" if setting.automatic else ""
    return f"{setting.help} ({', '.join(setting.models)}; default: {_default_words(setting)}{auto})"


def table() -> str:
    """docs/settings.md: every setting, its models, default, automatic rule and accepted values."""
    lines = ["# Model settings", "",
             "Generated from `topicvae/models/settings.py` (`python -m topicvae.models.settings > docs/settings.md`; "
             "a test keeps the two equal). Each is a keyword of the model's constructor "
             "(`ProdLDA(20, batch_size=100)`) and, where a flag is shown, a flag of `topicvae train`.", "",
             "| setting | flag | models | default | when automatic | values | what it does |",
             "|---|---|---|---|---|---|---|"]
    for s in SETTINGS.values():
        values = "; ".join(dict.fromkeys(s.kind_of(m).expect() for m in s.models))
        lines.append(f"| `{s.name}` | {'`' + s.option + '`' if s.flag else ''} | {', '.join(s.models)} | "
                     f"{_default_words(s)} | {s.automatic or ''} | {values} | {s.help} |")
    lines += ["", "## What a setting does, and why", "",
              "Where there is more to say than the table's line (how the defaults were chosen: docs/model-defaults.md).", ""]
    for name, text in DETAILS.items():
        lines += [f"- `{name}`: {text}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(table(), end="")
