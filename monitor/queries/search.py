"""Full-text search over every version of every question: "which answers ever said X".

What a user types (the same on both engines, whatever they type):
- words: every one must appear, stemmed ("hotels" finds "hotel"), in any case;
- "a quoted phrase": those words in that order (a quote left open runs to the end);
- OR between two terms: either of them; it binds tighter than the words around it, so
  `asylum hotels OR barracks` is asylum and (hotels or barracks);
- -word or -"a phrase": leave out what says it (it applies to the whole search).
Anything else is read as words: punctuation, `*`, `NEAR(`, quotes and SQL are separators, never
syntax, because the text is parsed here into terms of letters and digits (`parse_query`) and
each engine's query is rendered from those terms alone (`_fts5_query`, `_pg_tsquery`).
Where the engines still differ: PostgreSQL drops English stop words ("the", "of") and stems
with Snowball, SQLite keeps them and stems with Porter; PostgreSQL's parser skips text that looks
like markup (`<b c>`), FTS5 reads its words; neither folds accents.

What is searched: the search documents of migration 0013, one per run of identical text in a
source's chain (heading, question, answer, and members apart), each knowing whether it is its
source's latest present version (`is_current`): a question matches when one of its documents
does, and the hit says whether a current one did or only past ones ("ever said").

Ranked by relevance: the best document of each question (FTS5's bm25 with the heading weighted
over the question over the answer; PostgreSQL's ts_rank with weights A/B/C), then the newest
question first. At most RANK_LIMIT matching documents are ranked, the newest (by version id):
a search that matches more says so (`SearchResults.complete`), and its total is a lower bound.

Filters: the question's current state in `question_current` (house, department,
status, tabled and answered dates; monitor.changes.current), except for the questions whose row
is missing or may be stale (a version detection has not read), whose state is derived from their
versions, as `pqwatch stats` does; the member (asking or answering) and "current only" narrow the documents.

Snippets come from the engine (FTS5's snippet(), PostgreSQL's ts_headline()) with matched words
between two private-use characters, then split into (text, matched) pieces: the text is scraped,
so a page escapes every piece and marks the matched ones itself."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    column,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from monitor.changes.current import CurrentState, derive_states, undetected_question_ids
from monitor.changes.lifecycle import Lifecycle, lifecycle_status
from monitor.queries.views import iso, utc_text
from storage.models import Question, QuestionCurrent, Version
from storage.terms import House

MAX_QUERY_CHARS = 500
# The matching documents ranked at most, the newest first: a search matching more (a word most
# answers use) ranks the newest RANK_LIMIT and says so, as scoring every match would take
# seconds at 500,000 questions; the words and filters that narrow it rank it all.
RANK_LIMIT = 10_000
MAX_TERMS = 24
MAX_LIMIT = 100
MAX_OFFSET = 10_000
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use: never in normalised answer text
SNIPPET_TOKENS = 32  # FTS5's longest is 64
# ts_headline's: about as long as FTS5's, up to two fragments.
HEADLINE_OPTIONS = (
    f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=32, MinWords=12, ShortWord=2,"
    ' MaxFragments=2, FragmentDelimiter=" … "'
)
# bm25 weights of search_index's columns: heading, question, answer, and the members (not text).
BM25_WEIGHTS = (3.0, 2.0, 1.0, 0.0, 0.0)
TEXT_COLUMNS = "{heading question_text answer_text}"
MEMBER_COLUMNS = "{asking_member answering_member}"

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')

documents = table(
    "search_documents",
    column("version_id", Integer),
    column("question_id", Integer),
    column("source_id", Integer),
    column("is_current", Boolean),
    column("document"),
    column("members"),
)
fts = table("search_index", column("rowid", Integer))


class SearchError(ValueError):
    """A search that cannot be run as asked; the message says why, in one line."""


# --- the query a user typed ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """One word, or the words of a phrase in order (lower case, letters and digits only)."""

    words: tuple[str, ...]

    def text(self) -> str:
        """How the term is shown back: a word, or a quoted phrase."""
        return self.words[0] if len(self.words) == 1 else '"' + " ".join(self.words) + '"'


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search: every group must match (a group matches when one of its terms does), and
    no excluded term may."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    def text(self) -> str:
        """The search as it was understood, in the syntax a user types."""
        parts = [" OR ".join(term.text() for term in group) for group in self.groups]
        parts += ["-" + term.text() for term in self.excluded]
        return " ".join(parts)


def parse_query(text: str) -> SearchQuery:
    """Parse what a user typed (see the module's docstring); SearchError when nothing is left to
    look for, or when it is too long."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchError(f"the search is too long: at most {MAX_QUERY_CHARS} characters")
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    joining = False  # the previous token was OR, and a term came before it
    for match in _TOKEN.finditer(text):
        minus, phrase, bare = match.groups()
        if bare is not None and bare.upper() == "OR":
            joining = bool(groups)
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            minus, bare = "-", bare[1:]
        words = tuple(word.lower() for word in _WORD.findall(phrase if bare is None else bare))
        if not words:
            continue  # punctuation alone: nothing to look for
        term = Term(words)
        if minus:
            excluded.append(term)
        elif joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        joining = False
    if not groups:
        raise SearchError(
            'say what to look for: words, a "quoted phrase", OR between terms, -word to leave one out'
            if not excluded
            else "say what to look for as well as what to leave out"
        )
    if sum(len(group) for group in groups) + len(excluded) > MAX_TERMS:
        raise SearchError(f"the search has too many terms: at most {MAX_TERMS}")
    return SearchQuery(tuple(tuple(group) for group in groups), tuple(excluded))


def _fts5_phrase(term: Term) -> str:
    # Why quoted: inside an FTS5 string nothing is an operator, and the words hold no quote.
    return '"' + " ".join(term.words).replace('"', '""') + '"'


def _fts5_query(query: SearchQuery, member: Term | None = None) -> str:
    """The FTS5 MATCH expression of a search over the text columns (and the member's names)."""
    groups = " AND ".join("(" + " OR ".join(map(_fts5_phrase, group)) + ")" for group in query.groups)
    if query.excluded:
        groups = f"({groups}) NOT (" + " OR ".join(map(_fts5_phrase, query.excluded)) + ")"
    expression = f"{TEXT_COLUMNS} : ({groups})"
    if member is not None:
        expression += f" AND {MEMBER_COLUMNS} : {_fts5_phrase(member)}"
    return expression


def _pg_term(term: Term) -> ColumnElement[Any]:
    # Why websearch_to_tsquery of a quoted phrase: it never fails on any text, and the phrase's
    # words (letters and digits) can only be read as that phrase.
    return func.websearch_to_tsquery(literal_column("'english'"), '"' + " ".join(term.words) + '"')


def _pg_any(terms: Sequence[Term]) -> ColumnElement[Any]:
    combined = _pg_term(terms[0])
    for term in terms[1:]:
        combined = func.tsquery_or(combined, _pg_term(term))
    return combined


def _pg_tsquery(query: SearchQuery) -> ColumnElement[Any]:
    """The tsquery of a search, combined from its terms as the FTS5 expression is."""
    combined = _pg_any(query.groups[0])
    for group in query.groups[1:]:
        combined = func.tsquery_and(combined, _pg_any(group))
    if query.excluded:
        combined = func.tsquery_and(combined, func.tsquery_not(_pg_any(query.excluded)))
    return combined


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What narrows a search besides its text. `member` matches the words of an asking or
    answering member's name in the matching version; `current_only` keeps the questions whose
    current text (a source's latest version) matches, leaving out what only past versions said."""

    house: str | None = None
    department: str | None = None  # any part of the answering body, any case
    member: str | None = None
    status: Lifecycle | None = None
    tabled_from: date | None = None
    tabled_to: date | None = None
    answered_from: date | None = None
    answered_to: date | None = None
    current_only: bool = False

    def __post_init__(self) -> None:
        if self.house is not None and self.house not in {house.value for house in House}:
            raise SearchError(f"house {self.house!r} is not Commons or Lords")
        for low, high, name in (
            (self.tabled_from, self.tabled_to, "tabled"),
            (self.answered_from, self.answered_to, "answered"),
        ):
            if low is not None and high is not None and low > high:
                raise SearchError(f"the {name} dates are the wrong way round: {low} is after {high}")

    @property
    def on_state(self) -> bool:
        """Whether any filter reads the question's current state."""
        return any(
            value is not None
            for value in (
                self.house,
                self.department,
                self.status,
                self.tabled_from,
                self.tabled_to,
                self.answered_from,
                self.answered_to,
            )
        )

    def member_term(self) -> Term | None:
        """The member's name as a phrase of words, or None."""
        words = tuple(word.lower() for word in _WORD.findall(self.member or ""))
        return Term(words) if words else None

    def state_clauses(self, today: date) -> list[ColumnElement[bool]]:
        """The filters on question_current as SQL."""
        c = QuestionCurrent
        clauses: list[ColumnElement[bool]] = [c.copies > 0]
        if self.house:
            clauses.append(c.house == self.house)
        if self.department:
            clauses.append(func.lower(c.answering_body).contains(self.department.lower(), autoescape=True))
        for value, clause in (
            (self.tabled_from, lambda d: c.date_tabled >= d),
            (self.tabled_to, lambda d: c.date_tabled <= d),
            (self.answered_from, lambda d: c.date_answered >= d),
            (self.answered_to, lambda d: c.date_answered <= d),
        ):
            if value is not None:
                clauses.append(clause(value))
        if self.status is not None:
            clauses.append(_status_clause(self.status, today))
        return clauses

    def holds(self, state: CurrentState, today: date) -> bool:
        """The same filters on a state derived in memory."""
        department = (self.department or "").lower()
        return (
            state.copies > 0
            and (not self.house or state.house == self.house)
            and (not department or department in (state.answering_body or "").lower())
            and _within(state.date_tabled, self.tabled_from, self.tabled_to)
            and _within(state.date_answered, self.answered_from, self.answered_to)
            and (self.status is None or _status_of(state, today) == self.status)
        )


def _within(day: date | None, low: date | None, high: date | None) -> bool:
    if low is None and high is None:
        return True
    return day is not None and (low is None or day >= low) and (high is None or day <= high)


def _status_of(state: CurrentState, today: date) -> Lifecycle:
    return lifecycle_status(
        today=today,
        due=state.due_date,
        answered=state.answered,
        is_holding=state.is_holding,
        is_correction=state.is_correction,
        is_withdrawn=state.is_withdrawn,
    )


def _status_clause(status: Lifecycle, today: date) -> ColumnElement[bool]:
    """monitor.changes.lifecycle.lifecycle_status as SQL over question_current: the first of
    withdrawn, corrected, answered, holding that holds, else where today stands to the due date."""
    c = QuestionCurrent
    ladder: list[tuple[Lifecycle, ColumnElement[bool]]] = [
        (Lifecycle.WITHDRAWN, c.is_withdrawn.is_(True)),
        (Lifecycle.CORRECTED, c.is_correction.is_(True)),
        (Lifecycle.ANSWERED, c.answered.is_(True)),
        (Lifecycle.HOLDING, c.is_holding.is_(True)),
    ]
    before: list[ColumnElement[bool]] = []
    for name, clause in ladder:
        if name == status:
            return and_(*before, clause)
        before.append(not_(clause))
    due: ColumnElement[bool] = {
        Lifecycle.DUE_TODAY: c.due_date == today,
        Lifecycle.OVERDUE: c.due_date < today,
        Lifecycle.TABLED: or_(c.due_date.is_(None), c.due_date > today),
    }[status]
    return and_(*before, due)


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One question that matches: where, and the best matching text with its matched words."""

    question_id: int
    house: str
    uin: str
    date_tabled: date | None
    heading: str | None
    answering_body: str | None
    asking_member: str | None
    answering_member: str | None
    current: bool  # its current text matches; False: only past versions said it
    observed_at: datetime  # when the quoted text was first stored (UTC)
    score: float  # relevance, higher first (each engine's own scale)
    snippet: tuple[tuple[str, bool], ...]  # (text, matched) pieces, to be escaped when shown

    def snippet_text(self, open_mark: str = "[", close_mark: str = "]") -> str:
        """The snippet as plain text with the matched words between two marks."""
        return "".join(f"{open_mark}{text}{close_mark}" if hit else text for text, hit in self.snippet)

    def as_json(self) -> dict[str, Any]:
        """What `pqwatch search --format json` prints for one hit."""
        return {
            "house": self.house,
            "uin": self.uin,
            "date_tabled": iso(self.date_tabled),
            "question_id": self.question_id,
            "heading": self.heading,
            "answering_body": self.answering_body,
            "asking_member": self.asking_member,
            "answering_member": self.answering_member,
            "matched": "current" if self.current else "past",
            "observed_at": utc_text(self.observed_at),
            "score": round(self.score, 6),
            "snippet": [{"text": text, "match": hit} for text, hit in self.snippet],
        }


@dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of hits, best first, and how many questions match in all."""

    query: SearchQuery
    total: int
    offset: int
    limit: int
    hits: tuple[SearchHit, ...] = field(default=())
    # False: more than RANK_LIMIT documents matched, and the hits are the best of the newest of
    # them; `total` is then how many questions those newest documents are of (at least that many match).
    complete: bool = True

    @property
    def more(self) -> bool:
        """Whether hits follow this page."""
        return self.offset + len(self.hits) < self.total


@dataclass(frozen=True, slots=True)
class _Group:
    question_id: int
    score: float
    current: bool
    quoted: int  # the version id of the document quoted


def search(
    session: Session,
    text: str,
    filters: SearchFilters | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    today: date | None = None,
) -> SearchResults:
    """Search every version's heading, question and answer text (see the module's docstring);
    `today` (London's date by default) places the status filter's due dates. SearchError for a
    query with nothing to look for, a bad page, or an engine without its index."""
    from monitor.changes.lifecycle import london_today

    query = parse_query(text)
    filters = filters or SearchFilters()
    if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_OFFSET:
        raise SearchError(f"a page holds 1 to {MAX_LIMIT} hits from offset 0 to {MAX_OFFSET}")
    engine = _Engine.of(session, query, filters.member_term(), filters.current_only)
    today = today or london_today()
    try:
        groups, total, capped = _ranked_groups(session, engine, filters, today, limit + offset)
        page = groups[offset : offset + limit]
        hits = _hits(session, engine, page)
    except OperationalError as error:
        if "no such module: fts5" in str(error) or "no such table: search_index" in str(error):
            raise SearchError("this SQLite database has no search index (FTS5 is missing)") from None
        raise
    return SearchResults(query, total, offset, limit, tuple(hits), complete=not capped)


def _ranked_groups(
    session: Session, engine: _Engine, filters: SearchFilters, today: date, wanted: int
) -> tuple[list[_Group], int, bool]:
    """The best `wanted` matching questions, how many match, and whether more documents matched
    than were ranked; filtered on the questions' state."""
    if not filters.on_state:
        rows = session.execute(engine.grouped().limit(wanted)).all()
        return _groups(rows), _count(rows, "total"), _count(rows, "documents") > RANK_LIMIT
    # Every candidate question comes back (RANK_LIMIT documents' at most): those whose stored
    # state may be stale or missing are judged here, from their versions, as `pqwatch stats` does.
    stale = sorted(undetected_question_ids(session))
    rows = session.execute(engine.grouped(state=filters.state_clauses(today), stale=stale)).all()
    doubtful = [row.question_id for row in rows if row.pending]
    states = {state.question_id: state for state in derive_states(session, doubtful)}
    kept = [
        group
        for group, row in zip(_groups(rows), rows, strict=True)
        if not row.pending
        or (group.question_id in states and filters.holds(states[group.question_id], today))
    ]
    return kept[:wanted], len(kept), _count(rows, "documents") > RANK_LIMIT


def _groups(rows: Sequence[Any]) -> list[_Group]:
    return [_Group(row.question_id, float(row.score), bool(row.current), row.quoted) for row in rows]


def _count(rows: Sequence[Any], name: str) -> int:
    return int(getattr(rows[0], name)) if rows else 0


def _hits(session: Session, engine: _Engine, page: list[_Group]) -> list[SearchHit]:
    """The page's questions, each quoting its document chosen by `_Engine.grouped`."""
    if not page:
        return []
    chosen = [group.quoted for group in page]
    snippets: dict[int, str] = {row[0]: row[1] for row in session.execute(engine.snippets(chosen))}
    rows = session.execute(
        select(Question, Version)
        .join(Version, Version.question_id == Question.id)
        .where(Version.id.in_(chosen))
    ).all()
    quoted = {version.id: (question, version) for question, version in rows}
    hits = []
    for group in page:
        question, version = quoted[group.quoted]
        hits.append(
            SearchHit(
                question_id=question.id,
                house=question.house,
                uin=question.uin,
                date_tabled=question.date_tabled,
                heading=version.heading,
                answering_body=version.answering_body,
                asking_member=version.asking_member,
                answering_member=version.answering_member,
                current=group.current,
                observed_at=version.observed_at,
                score=group.score,
                snippet=split_marks(snippets.get(version.id) or ""),
            )
        )
    return hits


def split_marks(marked: str) -> tuple[tuple[str, bool], ...]:
    """Split an engine's snippet into (text, matched) pieces at its marks."""
    pieces: list[tuple[str, bool]] = []
    for part in re.split(f"({MARK_OPEN}[^{MARK_CLOSE}]*{MARK_CLOSE})", marked):
        if part.startswith(MARK_OPEN):
            pieces.append((part[1:-1], True))
        elif part:
            pieces.append((part.replace(MARK_OPEN, "").replace(MARK_CLOSE, ""), False))
    return tuple(pieces)


# --- each engine's SQL ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Engine:
    """The SQL of one search on one engine: the matching documents, grouped by question."""

    dialect: str
    query: SearchQuery
    member: Term | None
    current_only: bool

    @classmethod
    def of(cls, session: Session, query: SearchQuery, member: Term | None, current_only: bool) -> _Engine:
        """The engine of this session's database."""
        return cls(session.get_bind().dialect.name, query, member, current_only)

    @property
    def postgres(self) -> bool:
        """Whether the database is PostgreSQL (else SQLite)."""
        return self.dialect == "postgresql"

    def candidates(self, state: list[ColumnElement[bool]] | None = None, stale: Sequence[int] = ()) -> Any:
        """The matching documents as a subquery of version_id, question_id, is_current, pending
        and score (relevance, higher first), the newest RANK_LIMIT + 1 of them by version id (so
        that more than RANK_LIMIT says some were left out). With `state`, only those of questions
        whose question_current row meets it, and those whose row may not be trusted (missing, or
        the question is among the `stale` ids), `pending` true, for the caller to judge."""
        if self.postgres:
            return self._pg_candidates(state, stale)
        return self._fts5_candidates(state, stale)

    def _pending(self, row: Any, question_id: Any, stale: Sequence[int]) -> Any:
        missing = row.is_(None)
        return or_(missing, self.among(question_id, list(stale))) if stale else missing

    def _pg_candidates(self, state: list[ColumnElement[bool]] | None, stale: Sequence[int]) -> Any:
        d = documents.c
        tsquery = _pg_tsquery(self.query)
        matched = select(d.version_id, d.question_id, d.is_current).where(d.document.op("@@")(tsquery))
        if self.member is not None:
            phrase = func.phraseto_tsquery(literal_column("'simple'"), " ".join(self.member.words))
            matched = matched.where(d.members.op("@@")(phrase))
        if self.current_only:
            matched = matched.where(d.is_current.is_(True))
        found: Any = documents
        statement = matched.add_columns(false().label("pending"))
        if state is not None:
            # Why materialized: the planner guesses that a state filter keeps a few questions and
            # reads each one's documents (every document unpacked to test it) rather than the
            # index's matches; the matches are read first. Why lateral: each match's state is
            # then looked up by its key, where a hash join would read every state first.
            found = matched.cte("matched").prefix_with("MATERIALIZED")
            held = (
                select(QuestionCurrent.question_id.label("row"), and_(*state).label("meets"))
                .where(QuestionCurrent.question_id == found.c.question_id)
                .limit(1)  # Why: a lateral with a limit is never flattened into a hash join
                .lateral("held")
            )
            pending = self._pending(held.c.row, found.c.question_id, stale)
            statement = (
                select(found.c.version_id, found.c.question_id, found.c.is_current, pending.label("pending"))
                .select_from(found)
                .outerjoin(held, true())
                .where(or_(held.c.meets.is_(True), pending))
            )
        newest = statement.order_by(found.c.version_id.desc()).limit(RANK_LIMIT + 1).subquery("newest")
        # Why ranked after: ts_rank unpacks each whole document, so only the newest are read, once.
        ranked = documents.alias("ranked")
        score = func.ts_rank(ranked.c.document, tsquery).label("score")
        return (
            select(newest.c.version_id, newest.c.question_id, newest.c.is_current, newest.c.pending, score)
            .join(ranked, ranked.c.version_id == newest.c.version_id)
            .subquery("candidates")
        )

    def _fts5_candidates(self, state: list[ColumnElement[bool]] | None, stale: Sequence[int]) -> Any:
        d = documents.c
        index: ColumnElement[Any] = literal_column("search_index")
        score = (-func.bm25(index, *BM25_WEIGHTS)).label("score")
        statement = (
            select(fts.c.rowid.label("version_id"), d.question_id, d.is_current)
            .select_from(fts)
            .join(documents, d.version_id == fts.c.rowid)
            .where(index.op("MATCH")(_fts5_query(self.query, self.member)))
        )
        if self.current_only:
            statement = statement.where(d.is_current.is_(True))
        if state is None:
            statement = statement.add_columns(false().label("pending"), score)
        else:
            c = QuestionCurrent
            pending = self._pending(c.question_id, d.question_id, stale)
            statement = (
                statement.add_columns(pending.label("pending"), score)
                .outerjoin(c, c.question_id == d.question_id)
                .where(or_(and_(*state), pending))
            )
        # FTS5 reads its matches newest first and stops at the limit. Why materialized: FTS5
        # computes bm25() only in a query over its own table, so documents are scored there.
        newest = statement.order_by(fts.c.rowid.desc()).limit(RANK_LIMIT + 1)
        return newest.cte("candidates").prefix_with("MATERIALIZED")

    def grouped(self, **narrowed: Any) -> Select[Any]:
        """Each candidate question's best score, whether a current document matched and the
        document to quote (the best current one, else the best), best first, with on every row
        the count of questions and of documents (`candidates`' arguments narrow them)."""
        m = self.candidates(**narrowed)
        place = (
            func.row_number()
            .over(
                partition_by=m.c.question_id,
                order_by=(m.c.is_current.desc(), m.c.score.desc(), m.c.version_id.desc()),
            )
            .label("place")
        )
        ranked = select(
            m.c.version_id, m.c.question_id, m.c.is_current, m.c.pending, m.c.score, place
        ).subquery("ranked")
        r = ranked.c
        current = func.bool_or(r.is_current) if self.postgres else func.max(r.is_current)
        pending = func.bool_or(r.pending) if self.postgres else func.max(r.pending)
        score = func.max(r.score).label("score")
        return (
            select(
                r.question_id,
                score,
                current.label("current"),
                pending.label("pending"),
                func.max(case((r.place == 1, r.version_id))).label("quoted"),
                func.count().over().label("total"),
                func.sum(func.count()).over().label("documents"),
            )
            .group_by(r.question_id)
            .order_by(score.desc(), r.question_id.desc())
        )

    def among(self, column_: ColumnElement[int], ids: list[int]) -> ColumnElement[bool]:
        """`column_` is one of these ids, as one parameter however many there are."""
        if self.postgres:
            return column_ == func.any(bindparam("ids", ids, unique=True))
        return column_.in_(select(literal_column("value")).select_from(func.json_each(json.dumps(ids))))

    def snippets(self, version_ids: list[int]) -> Select[Any]:
        """(version id, marked snippet) of these documents."""
        if self.postgres:
            text = func.concat_ws("\n", Version.heading, Version.question_text, Version.answer_text)
            headline = func.ts_headline(
                literal_column("'english'"), text, _pg_tsquery(self.query), HEADLINE_OPTIONS
            )
            return select(Version.id, headline).where(Version.id.in_(version_ids))
        snippet = func.snippet(literal_column("search_index"), -1, MARK_OPEN, MARK_CLOSE, "…", SNIPPET_TOKENS)
        return (
            select(fts.c.rowid, snippet)
            .where(literal_column("search_index").op("MATCH")(_fts5_query(self.query)))
            .where(fts.c.rowid.in_(version_ids))
        )


def questions_naming(session: Session, uin: str) -> Any:
    """A subquery of the ids of questions whose text, in any version, has the UIN as a word
    ("Question 7926", "(HL2328)"; a Lords UIN also by its number alone, "HL 2328"), read from the
    search index, not by scanning every version's text."""
    number = "".join(character for character in uin if character.isdigit())
    words = sorted({uin.lower(), number} - {""})
    d = documents.c
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.to_tsquery(literal_column("'english'"), " | ".join(words))
        return select(d.question_id).where(d.document.op("@@")(tsquery))
    index: ColumnElement[Any] = literal_column("search_index")
    quoted = " OR ".join('"' + word + '"' for word in words)  # letters and digits only: safe
    match = f"{TEXT_COLUMNS} : ({quoted})"
    return (
        select(d.question_id)
        .select_from(fts)
        .join(documents, d.version_id == fts.c.rowid)
        .where(index.op("MATCH")(match))
    )
