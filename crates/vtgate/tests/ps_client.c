/*
 * A libmariadb client doing what sysbench's oltp_read_only does with --db-ps-mode=auto, plus
 * executes that leave rows unread: used by tests/prepared_statements.rs against MariaDB and
 * vtgate, whose outputs must be equal.
 *
 * Usage: ps_client PORT DATABASE. Prints what the client library saw (prepare metadata, row
 * counts, first rows); exits 1 with the library's error on the first failing call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>

enum { POINT, RANGE, SUM, ORDER, DISTINCT, BEGIN_TX, COMMIT_TX, COUNT };

static const char *SQL[COUNT] = {
    "SELECT c FROM sbtest1 WHERE id=?",
    "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?",
    "SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?",
    "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
    "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
    "BEGIN",
    "COMMIT",
};

static MYSQL_STMT *stmt[COUNT];
/* Field count right after prepare: sysbench 1.0 reads a result only if it was not 0. */
static unsigned int prepared_fields[COUNT];
static int params[2];
static char cell[256];
static unsigned long cell_len;
static my_bool cell_null;

static void fail(const char *what, int i) {
    printf("FAIL %s [%s]: %u %s\n", what, SQL[i], mysql_stmt_errno(stmt[i]),
           mysql_stmt_error(stmt[i]));
    exit(1);
}

static void prepare(MYSQL *db, int i) {
    stmt[i] = mysql_stmt_init(db);
    if (!stmt[i] || mysql_stmt_prepare(stmt[i], SQL[i], strlen(SQL[i])))
        fail("prepare", i);
    unsigned long n = mysql_stmt_param_count(stmt[i]);
    if (n) {
        MYSQL_BIND bind[2];
        memset(bind, 0, sizeof bind);
        for (unsigned long p = 0; p < n; p++) {
            bind[p].buffer_type = MYSQL_TYPE_LONG;
            bind[p].buffer = &params[p];
        }
        if (mysql_stmt_bind_param(stmt[i], bind))
            fail("bind_param", i);
    }
    prepared_fields[i] = mysql_stmt_field_count(stmt[i]);
    printf("prepare %d: params %lu fields %u", i, n, prepared_fields[i]);
    MYSQL_RES *meta = mysql_stmt_result_metadata(stmt[i]);
    if (meta) {
        MYSQL_FIELD *f;
        while ((f = mysql_fetch_field(meta)))
            printf(" %s/%s/type %d/len %lu/flags %u", f->name, f->org_table, f->type, f->length,
                   f->flags);
        mysql_free_result(meta);
    }
    printf("\n");
}

static void bind_cell(int i) {
    MYSQL_BIND out;
    memset(&out, 0, sizeof out);
    out.buffer_type = MYSQL_TYPE_STRING;
    out.buffer = cell;
    out.buffer_length = sizeof cell - 1;
    out.length = &cell_len;
    out.is_null = &cell_null;
    if (mysql_stmt_bind_result(stmt[i], &out))
        fail("bind_result", i);
}

static void execute(int i, int from, int len) {
    params[0] = from;
    params[1] = from + len - 1;
    if (mysql_stmt_execute(stmt[i]))
        fail("execute", i);
}

/* Fetches one row into `cell` and prints it. */
static void fetch_one(int i) {
    bind_cell(i);
    int rc = mysql_stmt_fetch(stmt[i]);
    if (rc == 1)
        fail("fetch", i);
    cell[rc == MYSQL_NO_DATA || cell_null ? 0 : cell_len] = 0;
    printf("  first row of %d: %s\n", i, rc == MYSQL_NO_DATA ? "(none)" : cell);
}

/* sysbench 1.0's way: execute; a statement prepared without fields is not a select, so only
 * its affected rows are asked for; otherwise store the result, count its rows, free it. */
static void stored(int i, int from, int len) {
    execute(i, from, len);
    if (prepared_fields[i] == 0) {
        printf("  %d affected %llu\n", i, (unsigned long long)mysql_stmt_affected_rows(stmt[i]));
        return;
    }
    if (mysql_stmt_store_result(stmt[i]))
        fail("store_result", i);
    printf("  %d rows %llu fields %u\n", i, (unsigned long long)mysql_stmt_num_rows(stmt[i]),
           mysql_stmt_field_count(stmt[i]));
    if (mysql_stmt_free_result(stmt[i]))
        fail("free_result", i);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT DATABASE\n", argv[0]);
        return 2;
    }
    MYSQL *db = mysql_init(NULL);
    if (!mysql_real_connect(db, "127.0.0.1", "root", "", argv[2], atoi(argv[1]), NULL, 0)) {
        printf("FAIL connect: %s\n", mysql_error(db));
        return 1;
    }
    for (int i = 0; i < COUNT; i++)
        prepare(db, i);
    for (int round = 0; round < 3; round++) {
        printf("round %d\n", round);
        stored(BEGIN_TX, 0, 0);
        for (int p = 0; p < 10; p++)
            stored(POINT, 1 + 97 * p + round, 1);
        stored(RANGE, 101 + round, 100);
        stored(SUM, 201 + round, 100);
        stored(ORDER, 301 + round, 100);
        stored(DISTINCT, 401 + round, 100);
        stored(COMMIT_TX, 0, 0);
    }
    printf("unread rows\n");
    /* Executed again with all 100 rows unread: the library skips them. */
    execute(RANGE, 1, 100);
    execute(RANGE, 501, 100);
    fetch_one(RANGE);
    /* One row read, the rest dropped by free_result, then other statements. */
    if (mysql_stmt_free_result(stmt[RANGE]))
        fail("free_result", RANGE);
    stored(ORDER, 601, 100);
    execute(DISTINCT, 701, 100);
    fetch_one(DISTINCT);
    execute(DISTINCT, 801, 100);
    fetch_one(DISTINCT);
    if (mysql_stmt_free_result(stmt[DISTINCT]))
        fail("free_result", DISTINCT);
    stored(SUM, 1, 1000);
    stored(POINT, 999, 1);
    for (int i = 0; i < COUNT; i++)
        if (mysql_stmt_close(stmt[i]))
            fail("close", i);
    mysql_close(db);
    printf("done\n");
    return 0;
}
