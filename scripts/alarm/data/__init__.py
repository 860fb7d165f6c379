"""Corpora: audio decoding, the audio description A_text, the dataset registry,
one converter module per source corpus, and the synthetic default corpus."""
