-- Client-matrix fixture: one table with every common MySQL/MariaDB type, rows at the
-- limits and a row of NULLs, plus empty tables the clients write to. The runner
-- (run_matrix.py) creates a database unique to its run, applies this file to it through
-- MariaDB directly before every client invocation, and drops the database at the end.
SET time_zone = '+00:00';

DROP TABLE IF EXISTS all_types;
CREATE TABLE all_types (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED,
  si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  dec_small DECIMAL(10,3), dec_wide DECIMAL(65,30),
  f FLOAT, d DOUBLE,
  dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, tm TIME(6), yr YEAR,
  c CHAR(10), vc VARCHAR(100), tx TEXT,
  vb VARBINARY(64), bl BLOB,
  j JSON, bt BIT(12), bt1 BIT(1),
  e ENUM('a','b','c'), st SET('x','y','z')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

INSERT INTO all_types VALUES
-- lower limits
(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
 -9999999.999, -99999999999999999999999999999999999.999999999999999999999999999999,
 -3.40282e38, -1.7976931348623157e308,
 '1000-01-01', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000000', '-838:59:59.000000', 1901,
 '', '', '', X'', X'',
 '[]', b'0', b'0', 'a', ''),
-- upper limits, emoji, invalid UTF-8 bytes
(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
 9223372036854775807, 18446744073709551615,
 9999999.999, 99999999999999999999999999999999999.999999999999999999999999999999,
 3.40282e38, 1.7976931348623157e308,
 '9999-12-31', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', '838:59:59.000000', 2155,
 'abcdefghij', CONCAT('emoji ', _utf8mb4 0xF09F9880, ' 世界 ', _utf8mb4 0xF09F8C8D), REPEAT('long text ', 50),
 X'FF00FE80C328A0', X'00FFC0C1F5F8',
 '{"k": "v", "n": [1, 2.5, null, true], "u": "héllo"}', b'111111111111', b'1', 'c', 'x,y,z'),
-- ordinary values, negative TIME with fraction, zero year
(3, 0, 1, -1, 1, 0, 1, 42, 42, -1, 1,
 12345.678, -0.000000000000000000000000000001,
 1.5, 0.1,
 '2024-02-29', '2024-02-29 12:34:56.789012', '2024-02-29 12:34:56.123456', '-01:02:03.500000', 0,
 'héllo', CONCAT('quote '' back\\slash tab\t nul', _utf8mb4 X'00', 'end'), 'multi\nline', X'00', X'DEADBEEF',
 '{"a": {"b": [{}]}}', b'101010101010', b'0', 'b', 'x,z'),
-- NULL in every nullable column
(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL);

-- written by prepared-statement inserts
DROP TABLE IF EXISTS params_t;
CREATE TABLE params_t LIKE all_types;

-- written and rolled back by the transaction scenario
DROP TABLE IF EXISTS tx_t;
CREATE TABLE tx_t (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  v VARCHAR(20) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
