"""Text normalisation shared by the NLU tokenizer and the knowledge search.

The one fold() lives in danish_nlu.text, which the Rasa server loads too: the NLU features and
the knowledge search must spell Danish words the same way. That module imports neither spaCy
nor Rasa.
"""

from __future__ import annotations

from danish_nlu.text import fold

__all__ = ["fold"]
