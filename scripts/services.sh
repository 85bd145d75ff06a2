#!/usr/bin/env bash
# Make sure PostgreSQL, MariaDB and Redis answer on 127.0.0.1; start the ones that do not.
set -euo pipefail

wait_for() { # name, check command
  for _ in $(seq 1 60); do
    if eval "$2" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "services: $1 did not come up" >&2
  return 1
}

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis "redis-cli -h 127.0.0.1 ping"
fi
if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_for PostgreSQL "pg_isready -h 127.0.0.1 -q"
fi
if ! mariadb -h 127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1; then
  echo "services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB "mariadb -h 127.0.0.1 -uroot -e 'SELECT 1'"
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='companion_test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE companion_test"
mariadb -h 127.0.0.1 -uroot -e "CREATE DATABASE IF NOT EXISTS companion_test CHARACTER SET utf8mb4"
echo "services: Redis, PostgreSQL and MariaDB answer"
