"""Topic models behind one interface (:class:`topicvae.models.base.TopicModel`): the VAEs (:mod:`.vae`),
gensim's LDA (:mod:`.lda`), every setting declared once (:mod:`.settings`), guided topics' seed words
(:mod:`.seeding`). They read rows through :mod:`topicvae.corpus.rows` and know nothing of runs."""
