"""Topic models behind one interface (:class:`topicvae.models.base.TopicModel`)."""
