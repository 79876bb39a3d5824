# Sourced (not executed) by the mariadb image's docker-entrypoint.sh on the first start of an
# empty data directory: creates the replication account vttablet points replicas at, and the
# sidecar database. Not binlogged: every tablet's MariaDB creates its own.
# Env: VT_REPL_PASSWORD (from the Secret vitess-db-credentials).
vitess_repl_password="${VT_REPL_PASSWORD//\\/\\\\}"
vitess_repl_password="${vitess_repl_password//\'/\\\'}"
docker_process_sql <<SQL
SET @@SESSION.SQL_LOG_BIN = 0;
CREATE USER IF NOT EXISTS 'vt_repl'@'%' IDENTIFIED BY '${vitess_repl_password}';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'vt_repl'@'%';
CREATE DATABASE IF NOT EXISTS _vt;
SQL
unset vitess_repl_password
