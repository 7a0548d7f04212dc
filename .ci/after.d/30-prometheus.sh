# The monitoring configuration in config/ as Prometheus and Grafana will load it: the scrape
# configuration, the alerting rules and their unit tests, the dashboard's JSON.
"$OTPGATE_PROMTOOL" check config config/prometheus.yml
"$OTPGATE_PROMTOOL" check rules config/prometheus/alerts.yml
"$OTPGATE_PROMTOOL" test rules config/prometheus/alerts_test.yml
python3 -m json.tool config/grafana/otpgate.json >/dev/null
echo "config/grafana/otpgate.json: valid JSON"
