"""What the Rasa server loads from this repository: the Danish tokenizer and the small-talk guard.

Self-contained on purpose: it runs inside Rasa's own Python 3.10 environment, so it imports
nothing from ``bot`` or ``actions`` (tests/test_danish_nlu.py checks that). The
gateway and the action server use :mod:`danish_nlu.text` too, so the NLU features and the
knowledge search fold and lemmatise Danish words the same way.
"""
