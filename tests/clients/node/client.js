#!/usr/bin/env node
// Node mysql2 run through the client-matrix scenarios; prints one canonical JSON document of
// what the driver returned (JS type + value for every cell, field metadata, OK headers and
// errors) so run_matrix.py can diff our server against MariaDB directly.
//
// Usage: node client.js --mode query|execute --port P --db D [--host H] [--user U]
//        [--password W] [--ssl-ca FILE] [--connect-only]
// `query` uses the text protocol (COM_QUERY, client-side placeholders); `execute` uses
// server-side prepared statements (COM_STMT_PREPARE / COM_STMT_EXECUTE, binary rows).
'use strict';

const fs = require('fs');
const mysql = require('mysql2/promise');

function parseArgs(argv) {
  const args = { host: '127.0.0.1', user: 'root', password: '', mode: 'query' };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (key === 'connectOnly') {
      args.connectOnly = true;
    } else {
      args[key] = argv[++i];
    }
  }
  if (!args.port || !args.db || !['query', 'execute'].includes(args.mode)) {
    throw new Error('usage: client.js --mode query|execute --port P --db D [...]');
  }
  return args;
}

const COLUMNS = ('ti tiu si siu mi miu i iu bi biu dec_small dec_wide f d dt dtm ts tm yr' +
  ' c vc tx vb bl j bt bt1 e st').split(' ');

const PARAMS = [
  ['int_min', -(2n ** 63n)],
  ['int_max', 2n ** 63n - 1n],
  ['uint_max', 2n ** 64n - 1n],
  ['zero', 0],
  ['bool', true],
  ['decimal_string', '-12345.678'],
  ['float', 1.5],
  ['float_big', 3.14e300],
  ['date', new Date(Date.UTC(2024, 1, 29))],
  ['datetime_ms', new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789))],
  ['str_emoji', 'emoji \u{1F600} 世界'],
  ['buffer_invalid_utf8', Buffer.from('ff00fe80c328', 'hex')],
  ['null', null],
];

function tag(value) {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return ['Buffer', value.toString('hex')];
  if (value instanceof Date) {
    return ['Date', Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()];
  }
  if (typeof value === 'object') return [value.constructor.name, JSON.stringify(value)];
  return [typeof value, String(value)];
}

function describeFields(fields) {
  if (!fields) return null;
  return fields.map((f) => ({
    name: f.name, orgName: f.orgName, table: f.table, orgTable: f.orgTable, schema: f.schema,
    columnType: f.columnType, columnLength: f.columnLength, characterSet: f.characterSet,
    flags: f.flags, decimals: f.decimals,
  }));
}

function describeResult(result, fields) {
  if (Array.isArray(result) && fields && fields.length && !Array.isArray(fields[0])) {
    return { fields: describeFields(fields), rows: result.map((row) => row.map(tag)) };
  }
  if (Array.isArray(result)) {
    // multi-statement: one entry per statement
    return result.map((r, i) => describeResult(r, fields ? fields[i] : undefined));
  }
  const { affectedRows, insertId, info, serverStatus, warningStatus, changedRows } = result;
  return { ok: { affectedRows, insertId, info, serverStatus, warningStatus, changedRows } };
}

function describeError(err) {
  if (err.errno === undefined) throw err;
  return { error: err.code, errno: err.errno, sqlState: err.sqlState, message: err.sqlMessage };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const options = {
    host: args.host, port: Number(args.port), user: args.user, password: args.password,
    database: args.db, multipleStatements: true, supportBigNumbers: true, timezone: 'Z',
    rowsAsArray: true, charset: 'UTF8MB4_GENERAL_CI',
  };
  if (args.sslCa) options.ssl = { ca: fs.readFileSync(args.sslCa), rejectUnauthorized: false };

  let conn;
  try {
    conn = await mysql.createConnection(options);
  } catch (err) {
    process.stdout.write(JSON.stringify({ connect: describeError(err) }, null, 1) + '\n');
    return;
  }
  if (args.sslCa && !conn.connection.stream.encrypted) {
    throw new Error('connection is not encrypted although --ssl-ca was given');
  }
  const run = (sql, params) => (args.mode === 'execute' && params !== undefined)
    ? conn.execute(sql, params) : conn.query(sql, params);
  const q = async (sql, params) => {
    try {
      const [result, fields] = args.mode === 'execute' ? await conn.execute(sql, params || [])
        : await run(sql, params);
      return describeResult(result, fields);
    } catch (err) {
      return describeError(err);
    }
  };

  const out = {};
  if (args.connectOnly) {
    out.connect = 'ok';
    out.select = await q('SELECT 1 AS ok');
  } else {
    out.select_all_types = await q('SELECT * FROM all_types ORDER BY id');
    out.select_each_column = {};
    for (const c of COLUMNS) {
      out.select_each_column[c] = await q(`SELECT ${c} FROM all_types ORDER BY id`);
    }
    if (args.mode === 'query') {
      // the exact bytes of every text-protocol cell, before any conversion
      try {
        const [rows] = await conn.query({ sql: 'SELECT * FROM all_types ORDER BY id', typeCast: false });
        out.select_all_types_raw = rows.map((row) => row.map(tag));
      } catch (err) {
        out.select_all_types_raw = describeError(err);
      }
    }
    out.select_expressions = await q(
      "SELECT 1 AS one, -1 AS neg, 18446744073709551615 AS umax, 1.50 AS dec_lit, 1e0 AS dbl," +
      " 'str' AS s, _binary X'FF00' AS bin, NULL AS nul, CAST('2024-01-02' AS DATE) AS d," +
      " CAST('-00:00:01.5' AS TIME(1)) AS t, CAST(2.5 AS DECIMAL(5,2)) AS dec_cast");
    out.select_empty = await q('SELECT id, vc FROM all_types WHERE id < 0');
    out.params_select = {};
    for (const [name, value] of PARAMS) {
      out.params_select[name] = await q('SELECT ? AS p', [value]);
    }
    out.params_where = await q('SELECT * FROM all_types WHERE id >= ? ORDER BY id', [1]);
    const p = Object.fromEntries(PARAMS);
    out.params_insert = await q(
      'INSERT INTO params_t (id, bi, biu, dec_small, f, d, dt, dtm, vc, vb, j, ti)' +
      ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [10, p.int_min, p.uint_max, p.decimal_string, p.float, p.float_big, p.date, p.datetime_ms,
        p.str_emoji, p.buffer_invalid_utf8, '{"a": 1}', null]);
    out.params_insert_readback = await q('SELECT * FROM params_t ORDER BY id');
    out.error_unknown_table = await q('SELECT * FROM no_such_table');
    out.after_error = await q('SELECT 1 AS still_alive');
    out.error_syntax = await q('SELEC 1');
    out.after_syntax_error = await q('SELECT 2 AS still_alive');
    if (args.mode === 'query') {
      out.multi_statement = await q("SELECT 1 AS a; SELECT 'two' AS b, NULL AS c; DO 1");
      out.after_multi_statement = await q('SELECT 3 AS still_alive');
    }
    out.null_handling = await q(
      "SELECT NULL AS a, NULL IS NULL AS b, COALESCE(NULL, 'x') AS c, CAST(NULL AS CHAR) AS d," +
      ' ? IS NULL AS e', [null]);
    out.dml = {
      insert: await q("INSERT INTO tx_t (v) VALUES ('a'), ('b')"),
      update: await q("UPDATE tx_t SET v = 'c' WHERE id = 1"),
      update_unchanged: await q("UPDATE tx_t SET v = 'c' WHERE id = 1"),
      delete: await q('DELETE FROM tx_t'),
    };
    out.transaction_rollback = {};
    try {
      await conn.beginTransaction();
      out.transaction_rollback.insert = await q("INSERT INTO tx_t (v) VALUES ('in-tx')");
      out.transaction_rollback.count_in_tx = await q('SELECT COUNT(*) AS n FROM tx_t');
      await conn.rollback();
      out.transaction_rollback.count_after_rollback = await q('SELECT COUNT(*) AS n FROM tx_t');
    } catch (err) {
      out.transaction_rollback.error = describeError(err);
    }
  }
  await conn.end();
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((err) => {
  process.stderr.write(`client.js: ${err.stack || err}\n`);
  process.exit(1);
});
