"""Scoring any topic model's matrices: the metrics (coherence, diversity, perplexity, label agreement) and
the representations that rank each topic's words. Pure functions of arrays, for every model alike."""
