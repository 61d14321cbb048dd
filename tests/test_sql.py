import shlex

import pytest

from engine.analysis.sql import SqlAnalysis, SqlOperation, analyze_sql, phrase_matches
from engine.evaluate import Engine
from engine.events import ToolEvent
from engine.policy import load_policy
from tests.conftest import SEED_POLICY


def ops(text: str, dialect: str | None = None) -> list[tuple[str, bool, tuple[str, ...]]]:
    return [(o.phrase, o.is_write, o.tables) for o in analyze_sql(text, dialect).operations]


def phrases(text: str, dialect: str | None = None) -> list[str]:
    return [o.phrase for o in analyze_sql(text, dialect).operations]


def op(phrase: str) -> SqlOperation:
    return SqlOperation(phrase=phrase, is_write=True, tables=(), statement="")


# --- phrases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        ("DROP TABLE users", None, ("DROP TABLE", True, ("users",))),
        ("DROP DATABASE prod", "mysql", ("DROP DATABASE", True, ("prod",))),
        ("DROP SCHEMA audit CASCADE", "postgres", ("DROP SCHEMA", True, ("audit",))),
        ("DROP VIEW v", None, ("DROP VIEW", True, ("v",))),
        ("DROP INDEX idx_users", "postgres", ("DROP INDEX", True, ("idx_users",))),
        ("DROP MATERIALIZED VIEW m", "postgres", ("DROP MATERIALIZED VIEW", True, ("m",))),
        ("DROP TABLESPACE ts", "postgres", ("DROP TABLESPACE", True, ("ts",))),
        ("TRUNCATE users", "postgres", ("TRUNCATE TABLE", True, ("users",))),
        ("TRUNCATE TABLE a, b", None, ("TRUNCATE TABLE", True, ("a", "b"))),
        ("DELETE FROM users", None, ("DELETE FROM", True, ("users",))),
        ("DELETE FROM users WHERE id = 1", "postgres", ("DELETE FROM", True, ("users",))),
        ("ALTER TABLE t DROP COLUMN c", "postgres", ("ALTER TABLE DROP COLUMN", True, ("t",))),
        ("ALTER TABLE t DROP c", "mysql", ("ALTER TABLE DROP COLUMN", True, ("t",))),
        (
            "ALTER TABLE t DROP CONSTRAINT t_pk",
            "postgres",
            ("ALTER TABLE DROP CONSTRAINT", True, ("t",)),
        ),
        ("ALTER TABLE t ADD COLUMN c int", "postgres", ("ALTER TABLE ADD COLUMN", True, ("t",))),
        ("ALTER TABLE t RENAME TO u", "postgres", ("ALTER TABLE RENAME", True, ("t",))),
        ("ALTER TABLE t OWNER TO bob", "postgres", ("ALTER TABLE", True, ("t",))),
        ("CREATE TABLE t (a int)", None, ("CREATE TABLE", True, ("t",))),
        ("CREATE TABLE t AS SELECT * FROM u", None, ("CREATE TABLE", True, ("t",))),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", None, ("CREATE VIEW", True, ("v",))),
        ("CREATE INDEX i ON s.t (a)", "postgres", ("CREATE INDEX", True, ("s.t",))),
        ("CREATE SCHEMA s", "postgres", ("CREATE SCHEMA", True, ("s",))),
        ("INSERT INTO t VALUES (1)", None, ("INSERT INTO", True, ("t",))),
        ("INSERT INTO t (a, b) SELECT a, b FROM u", None, ("INSERT INTO", True, ("t",))),
        ("UPDATE t SET a = 1", None, ("UPDATE", True, ("t",))),
        (
            "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
            "postgres",
            ("MERGE INTO", True, ("t",)),
        ),
        ("SELECT * FROM a JOIN b.c ON a.x = c.x", None, ("SELECT", False, ("a", "b.c"))),
        ("SELECT now()", "postgres", ("SELECT", False, ())),
        ("SELECT pg_terminate_backend(42)", "postgres", ("SELECT", False, ())),
        ("GRANT SELECT ON t TO bob", "postgres", ("GRANT", True, ("t",))),
        ("REVOKE SELECT ON t FROM bob", "postgres", ("REVOKE", True, ("t",))),
        ("SET statement_timeout = 0", "postgres", ("SET", False, ())),
        ("COPY t FROM '/tmp/t.csv'", "postgres", ("COPY", True, ("t",))),
        ("COPY t TO '/tmp/t.csv'", "postgres", ("COPY", False, ("t",))),
        ("SHOW TABLES", "mysql", ("SHOW", False, ())),
        ("EXPLAIN SELECT 1", "postgres", ("EXPLAIN", False, ())),
        ("BEGIN", None, ("BEGIN", False, ())),
        ("COMMIT", None, ("COMMIT", False, ())),
        ("SELECT * INTO copy_t FROM t", "postgres", ("SELECT INTO", True, ("copy_t",))),
        ("PRAGMA user_version = 5", "sqlite", ("PRAGMA", True, ())),
        ("PRAGMA table_info(t)", "sqlite", ("PRAGMA", False, ())),
    ],
)
def test_single_statement_phrase(sql, dialect, expected):
    assert ops(sql, dialect) == [expected]


def test_drop_table_if_exists_lists_every_table():
    assert ops("DROP TABLE IF EXISTS a, b") == [("DROP TABLE", True, ("a", "b"))]


def test_keywords_are_case_insensitive():
    assert ops("drop table users") == [("DROP TABLE", True, ("users",))]
    assert phrases("TrUnCaTe users", "postgres") == ["TRUNCATE TABLE"]
    assert phrases("alter table t drop column c", "postgres") == ["ALTER TABLE DROP COLUMN"]


def test_names_are_lower_case_even_when_quoted():
    assert ops('DROP TABLE "Users"', "postgres") == [("DROP TABLE", True, ("users",))]
    assert ops("DROP DATABASE IF EXISTS `Prod`", "mysql") == [("DROP DATABASE", True, ("prod",))]


def test_create_materialized_view_keeps_materialized():
    assert phrases("CREATE MATERIALIZED VIEW m AS SELECT 1", "postgres") == [
        "CREATE MATERIALIZED VIEW"
    ]


def test_alter_table_with_several_actions_reports_each():
    assert phrases("ALTER TABLE t ADD COLUMN a int, DROP COLUMN b", "postgres") == [
        "ALTER TABLE ADD COLUMN",
        "ALTER TABLE DROP COLUMN",
    ]


def test_alter_table_command_fallback_still_finds_the_drop():
    # sqlglot cannot parse DROP PARTITION; the keyword reader must still see the DROP.
    analysis = analyze_sql("ALTER TABLE t ADD a int, DROP PARTITION p", "mysql")
    assert [o.phrase for o in analysis.operations] == [
        "ALTER TABLE ADD COLUMN",
        "ALTER TABLE DROP PARTITION",
    ]


def test_replace_into_is_a_write():
    assert ops("REPLACE INTO t VALUES (1)", "mysql") == [("REPLACE INTO", True, ("t",))]


def test_insert_or_replace_is_insert_into():
    assert ops("INSERT OR REPLACE INTO t VALUES (1)", "sqlite") == [("INSERT INTO", True, ("t",))]


def test_statement_text_is_trimmed_source_capped_at_200():
    long_where = " OR ".join(f"id = {i}" for i in range(200))
    analysis = analyze_sql(f"   DELETE FROM t WHERE {long_where}  ;")
    statement = analysis.operations[0].statement
    assert statement.startswith("DELETE FROM t WHERE id = 0")
    assert len(statement) == 200
    assert analyze_sql("  drop table x  ").operations[0].statement == "drop table x"


# --- several statements ----------------------------------------------------------------


def test_multiple_statements_in_order():
    sql = "BEGIN; DELETE FROM a; INSERT INTO b VALUES (1); COMMIT;"
    assert phrases(sql) == ["BEGIN", "DELETE FROM", "INSERT INTO", "COMMIT"]
    statements = [o.statement for o in analyze_sql(sql).operations]
    assert statements == ["BEGIN", "DELETE FROM a", "INSERT INTO b VALUES (1)", "COMMIT"]


def test_semicolons_inside_quotes_and_comments_do_not_split():
    sql = "SELECT 'a;b', \"c;d\" -- e;f\n/* g;h */ FROM t; DROP TABLE z"
    assert phrases(sql, "postgres") == ["SELECT", "DROP TABLE"]
    assert phrases("select $tag$ ; $tag$; drop table q", "postgres") == ["SELECT", "DROP TABLE"]


def test_backslash_escape_depends_on_dialect():
    sql = "SELECT 'a\\'; DROP TABLE x; '"
    # MySQL reads \' as a quote inside the string, so nothing is dropped there ...
    assert phrases(sql, "mysql") == ["SELECT"]
    # ... while Postgres ends the string at the quote and runs the DROP.
    assert "DROP TABLE" in phrases(sql, "postgres")


def test_comments_alone_are_not_statements():
    analysis = analyze_sql("-- nothing here;\n/* nor; here */ ;;")
    assert analysis == SqlAnalysis((), ())


def test_empty_text():
    assert analyze_sql("") == SqlAnalysis((), ())


# --- schema qualification --------------------------------------------------------------


def test_search_path_to_qualifies_following_statements():
    analysis = analyze_sql(
        "SET search_path TO audit_log; INSERT INTO events VALUES (1)", "postgres"
    )
    assert analysis.operations[-1] == SqlOperation(
        "INSERT INTO", True, ("audit_log.events",), "INSERT INTO events VALUES (1)"
    )


def test_search_path_equals_list_uses_first_entry():
    assert ops("SET search_path = a, b; DROP TABLE x", "postgres")[-1] == (
        "DROP TABLE",
        True,
        ("a.x",),
    )


def test_search_path_skips_user_placeholder():
    sql = 'SET search_path TO "$user", public; SELECT * FROM t'
    assert ops(sql, "postgres")[-1] == ("SELECT", False, ("public.t",))


def test_search_path_does_not_qualify_schemas_or_databases():
    sql = "SET search_path TO app; DROP SCHEMA old; DROP DATABASE d; DROP TABLE t"
    assert ops(sql, "postgres")[1:] == [
        ("DROP SCHEMA", True, ("old",)),
        ("DROP DATABASE", True, ("d",)),
        ("DROP TABLE", True, ("app.t",)),
    ]


def test_search_path_only_applies_after_it_is_set():
    assert ops("DROP TABLE t; SET search_path TO s", "postgres")[0] == ("DROP TABLE", True, ("t",))


def test_mysql_use_qualifies():
    assert ops("USE prod; DELETE FROM users", "mysql") == [
        ("USE", False, ()),
        ("DELETE FROM", True, ("prod.users",)),
    ]


def test_explicit_schema_wins_over_search_path():
    sql = "SET search_path TO audit_log; INSERT INTO system.settings VALUES (1)"
    assert ops(sql, "postgres")[-1] == ("INSERT INTO", True, ("system.settings",))


def test_schema_qualified_names():
    assert ops("INSERT INTO system.settings (k, v) VALUES ('a', 'b')") == [
        ("INSERT INTO", True, ("system.settings",))
    ]
    assert ops("DROP TABLE cat.sch.tbl") == [("DROP TABLE", True, ("cat.sch.tbl",))]


# --- writes below the root -------------------------------------------------------------


def test_data_modifying_cte_reports_the_delete():
    sql = "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone"
    assert ("DELETE FROM", True, ("t",)) in ops(sql, "postgres")


def test_cte_feeding_an_insert_reports_both_writes():
    sql = "WITH d AS (UPDATE t SET a = 1 RETURNING *) INSERT INTO u SELECT * FROM d"
    assert ops(sql, "postgres") == [("INSERT INTO", True, ("u",)), ("UPDATE", True, ("t",))]


def test_cte_names_are_not_reported_as_tables():
    assert ops("WITH x AS (SELECT * FROM real_t) SELECT * FROM x") == [
        ("SELECT", False, ("real_t",))
    ]


def test_explain_analyze_runs_the_statement():
    assert ("DELETE FROM", True, ("t",)) in ops("EXPLAIN ANALYZE DELETE FROM t", "postgres")
    assert "DROP TABLE" in phrases("EXPLAIN (ANALYZE, BUFFERS) DROP TABLE t", "postgres")


def test_plain_explain_does_not_run_the_statement():
    assert [o.is_write for o in analyze_sql("EXPLAIN DELETE FROM t", "mysql").operations] == [False]


def test_do_block_writes_are_found():
    found = phrases("DO $$ BEGIN DROP TABLE x; END $$", "postgres")
    assert found == ["DO", "DROP TABLE"]


# --- client commands -------------------------------------------------------------------


def test_psql_meta_commands_are_stripped():
    analysis = analyze_sql("\\dt\n\\c mydb\nDROP TABLE x;\n\\set ON_ERROR_STOP 1\n", "postgres")
    assert analysis == SqlAnalysis((SqlOperation("DROP TABLE", True, ("x",), "DROP TABLE x"),), ())


def test_sqlite_dot_commands_are_stripped():
    analysis = analyze_sql(".tables\n.schema users\nDELETE FROM users;\n.quit", "sqlite")
    assert analysis == SqlAnalysis(
        (SqlOperation("DELETE FROM", True, ("users",), "DELETE FROM users"),), ()
    )


def test_psql_copy_meta_command_is_a_copy():
    assert ops("\\copy t from data.csv csv", "postgres") == [("COPY", True, ("t",))]


# --- bad input -------------------------------------------------------------------------


_ENGINE = Engine(load_policy(SEED_POLICY))


def _decide(command: str) -> str:
    event = ToolEvent(tool_name="Bash", tool_input={"command": command}, cwd="/srv/app")
    return _ENGINE.evaluate(event).would_be.value


@pytest.mark.parametrize(
    "text",
    [
        "\x00\xff junk ;;; '",
        "SELECT 'unterminated",
        'DROP TABLE "unterminated',
        "/* never closed",
        "$$ never closed",
        "(" * 5000,
        "\u202e\ufeff DROP",
    ],
)
def test_malformed_sql_is_never_allowed(text):
    for client in ("psql -c", "sqlite3 app.db", "mysql -e"):
        assert _decide(f"{client} {shlex.quote(text)}") in {"approve", "deny"}, client
    for dialect in ("postgres", "mysql", "sqlite", None):
        analysis = analyze_sql(text, dialect)
        assert analysis.unparsed or analysis.operations, dialect


@pytest.mark.parametrize("text", ["\\", ".", ";"])
def test_client_commands_and_empty_statements_are_not_sql(text):
    # `\…` is a psql meta-command, `.…` a sqlite dot-command, `;` an empty statement.
    assert analyze_sql(text, "postgres") == SqlAnalysis((), ())


def test_garbage_is_reported_unparsed():
    analysis = analyze_sql("\x00\xff junk ;;; '")
    assert analysis.operations == ()
    assert analysis.unparsed == ("\x00\xff junk", "'")


def test_large_input_is_analyzed():
    sql = "INSERT INTO t VALUES (1, 'abc'); " * 3100  # about 100 KB
    assert len(sql) > 100_000
    analysis = analyze_sql(sql + "DROP TABLE t", "postgres")
    assert analysis.unparsed == ()
    assert analysis.operations[-1].phrase == "DROP TABLE"
    assert len(analysis.operations) == 3101


def test_unparseable_statement_beside_drop_still_reports_drop():
    analysis = analyze_sql("SELEC * FROMM ((; DROP TABLE users")
    assert analysis.unparsed == ("SELEC * FROMM ((",)
    assert [(o.phrase, o.tables) for o in analysis.operations] == [("DROP TABLE", ("users",))]


def test_unparseable_destructive_statement_uses_keyword_fallback():
    analysis = analyze_sql("DROP SCHEMA a, b", "postgres")
    assert analysis.unparsed == ("DROP SCHEMA a, b",)
    assert ops("DROP SCHEMA a, b", "postgres") == [("DROP SCHEMA", True, ("a", "b"))]
    fallback = analyze_sql("DELETE FROM t WHERE (", "postgres")
    assert [(o.phrase, o.tables) for o in fallback.operations] == [("DELETE FROM", ("t",))]
    assert fallback.unparsed == ("DELETE FROM t WHERE (",)


def test_unknown_dialect_falls_back_to_generic_parser():
    assert ops("DROP TABLE t", "no-such-dialect") == [("DROP TABLE", True, ("t",))]


def test_repeated_analysis_is_served_from_the_cache():
    # Every tool call of an agent loop repeats the same SQL; it is parsed once.
    sql = "DELETE FROM t WHERE id IN (SELECT id FROM u)"
    first = analyze_sql(sql, "postgres")
    assert analyze_sql(sql, "postgres") is first
    assert analyze_sql(sql, "mysql") is not first


# --- phrase_matches --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "phrase", "expected"),
    [
        ("DROP TABLE", "DROP TABLE", True),
        ("drop   table", "DROP TABLE", True),
        ("DROP TABLE", "DROP SCHEMA", True),
        ("DROP TABLE", "DROP DATABASE", True),
        ("DROP TABLE", "DROP TABLESPACE", False),
        ("DROP TABLE", "DROP VIEW", False),
        ("DROP TABLE", "DROP INDEX", False),
        ("DROP TABLE", "TRUNCATE TABLE", False),
        ("DROP SCHEMA", "DROP DATABASE", False),
        ("DROP SCHEMA", "DROP TABLE", False),
        ("TRUNCATE TABLE", "TRUNCATE TABLE", True),
        ("TRUNCATE TABLE", "TRUNCATE", True),
        ("DELETE FROM", "DELETE FROM", True),
        ("DELETE FROM", "DELETE", False),
        ("ALTER TABLE DROP", "ALTER TABLE DROP COLUMN", True),
        ("ALTER TABLE DROP", "ALTER TABLE DROP CONSTRAINT", True),
        ("ALTER TABLE DROP", "ALTER TABLE ADD COLUMN", False),
        ("ALTER TABLE", "ALTER TABLE ADD COLUMN", True),
        ("ALTER TABLE", "ALTER TABLE DROP COLUMN", True),
        ("ALTER TABLE", "ALTER VIEW", False),
        ("CREATE TABLE", "CREATE TABLE", True),
        ("CREATE TABLE", "CREATE TABLESPACE", False),
        ("INSERT INTO", "SELECT", False),
        ("", "DROP TABLE", False),
        ("DROP TABLE CASCADE", "DROP TABLE", False),
    ],
)
def test_phrase_matches(policy, phrase, expected):
    assert phrase_matches(policy, op(phrase)) is expected


def test_phrase_matches_on_analyzed_operations():
    (truncate,) = analyze_sql("truncate users", "postgres").operations
    assert phrase_matches("TRUNCATE TABLE", truncate)
    (drop_schema,) = analyze_sql("DROP SCHEMA s CASCADE", "postgres").operations
    assert phrase_matches("DROP TABLE", drop_schema)
    (tablespace,) = analyze_sql("DROP TABLESPACE ts", "postgres").operations
    assert not phrase_matches("DROP TABLE", tablespace)


@pytest.mark.parametrize(
    "prose",
    [
        "Update the README with install steps",
        "delete the old branch",
        "Drop me a line",
        "Create a new file called x.py",
        "truncate the text to 100 chars",
        "insert a row",
    ],
)
def test_prose_that_starts_with_a_keyword_is_not_an_operation(prose):
    # Tool inputs named "query" often hold prose; it must not pass for a write.
    analysis = analyze_sql(prose)
    assert analysis.operations == ()
    assert analysis.unparsed == (prose,)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("DROP POLICY p ON t", ("DROP POLICY", True, ("p",))),
        ("CREATE EXTENSION pgcrypto", ("CREATE EXTENSION", True, ("pgcrypto",))),
        ("DROP OWNED BY bob", ("DROP OWNED", True, ())),
        ("ALTER SYSTEM SET work_mem = '1GB'", ("ALTER SYSTEM", True, ())),
        ("CALL refresh_all()", ("CALL", True, ())),
    ],
)
def test_statements_sqlglot_only_knows_by_keyword(sql, expected):
    assert ops(sql, "postgres") == [expected]
