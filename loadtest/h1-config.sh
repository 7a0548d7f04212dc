# loadtest/h1-config.sh, sourced by bench.sh and instructions.sh: otpgate's configuration in
# the headline rows' setup (memory store, one tenant without rate limit, one transceiver bind
# of window 64 to the simulator, no per-number limit, warnings only).
#
# h1_config HTTP_PORT SIM_PORT TPS [TOML]: the configuration on stdout, TOML appended.
h1_config() {
    cat <<EOF_H1
# Written by loadtest/h1-config.sh for one benchmark run.
[http]
listen = "127.0.0.1:$1"
max_in_flight = 10000

[[tenants]]
name = "bench"
token = "bench-token"
rate_limit_per_s = 0

[[smsc]]
name = "sim"
host = "127.0.0.1"
port = $2
system_id = "test"
password = "secret"
binds = 1
window = 64
tps = $3

[limits]
per_number = 0

[security]
pin_secret = "bench-only-secret-0123456789abcdef"

[log]
level = "warn"
${4:-}
EOF_H1
}
