#!/usr/bin/env bash
# Runs the benchmarks docs/benchmarks.md reports and prints a summary table:
#   1. issue 3, no cluster: StartJobRun through the whole API stack at 1, 8 and 64 clients, and
#      ListJobRuns with 100k and 1M stored runs (internal/api);
#   2. issue 4, in a quiet test cluster (test/bench), driver emulator off: sustained jobs/s of
#      sparkplane and of a raw client-go baseline in pairs (BenchmarkThroughput), and
#      submit->driver-pod latency at a steady rate (BenchmarkLatency);
#      then issue 9's StartJobRun with 20 policies against an administrator key and policy
#      evaluation (internal/iam), and issue 10's 1 GiB event log read (internal/eventlog);
#   3. issue 8, what a user meets (test/load): a whole sandbox up (Karpenter, the driver
#      emulator, the controller-manager, the server as its own process), SigV4 clients against
#      raw client-go on the same cluster in the same round, the latency at a steady rate, and
#      the server's memory with 10,000 live runs, after which the sandbox must still provision.
# Raw `go test` output goes to .cache/bench/ (git-ignored). About 5 minutes on 2 cores.
#
# Knobs (environment):
#   BENCH_COUNT=3        rounds of the cluster experiments, each in a fresh cluster (the
#                        summary shows the median)
#   BENCH_JOBS=500       job runs per throughput experiment
#   BENCH_RATE=10        job runs per second in the latency experiment
#   BENCH_DURATION=25s   length of the latency experiment
#   BENCH_PROFILE=1      also write CPU profiles of the cluster experiments (the test process:
#                        API server, store, controller and the clients) to .cache/bench/
#   BENCH_LIVE=10000     live job runs of the memory experiment
#   BENCH_ONLY=api|cluster|sandbox   run one part
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
out=.cache/bench
mkdir -p "$out"
touch "$out/.started"
count=${BENCH_COUNT:-3}
only=${BENCH_ONLY:-}
failed=0
start=$SECONDS

# run NAME ARGS... runs one `go test` and keeps its output in $out/NAME.txt.
run() {
	local name=$1
	shift
	echo "== $name: go test $*" >&2
	if ! "$GO" test "$@" 2>&1 | tee "$out/$name.txt"; then
		echo "== $name FAILED (output in $out/$name.txt)" >&2
		failed=1
	fi
}

if [[ -z $only || $only == api ]]; then
	# Each -benchtime Nx benchmark runs once with N=1, then once with N: the ListJobRuns rows are
	# seeded twice, which is most of its time.
	run api-startjobrun ./internal/api -run '^$' -bench '^BenchmarkStartJobRun$' -benchtime 5000x -count 1 -timeout 15m
	run api-listjobruns ./internal/api -run '^$' -bench '^BenchmarkListJobRuns$' -benchtime 500x -count 1 -timeout 15m
	# issue 9: a user with 20 policies against an administrator key, in alternating rounds.
	run api-policies ./internal/api -run '^$' -bench '^BenchmarkStartJobRunWithPolicies$' -benchtime 1000x -count 3 -timeout 15m
	run api-evaluate ./internal/iam -run '^$' -bench '^BenchmarkEvaluate$' -count 1 -timeout 5m
	# issue 10: a 1 GiB event log streamed into its summary.
	run api-eventlog ./internal/eventlog -run '^$' -bench '^BenchmarkRead$' -benchtime 1x -count 1 -timeout 15m
	# issue 10: 256 MiB of a container's output shipped through rotation to S3, against one
	# gzip stream and one PutObject of the same bytes.
	run api-logship ./internal/logship -run '^$' -bench '^BenchmarkShip$' -benchtime 1x -count 3 -timeout 15m
	# issue 11: the console's job list page of a virtual cluster with 100k runs (first and
	# half-way pages), against the signed ListJobRuns call it is made from.
	run api-console-page ./internal/console -run '^$' -bench '^BenchmarkJobRunsPage$' -benchtime 500x -count 1 -timeout 15m
	# issue 12: ListJobRuns at the store over 1M job runs, on SQLite then PostgreSQL.
	run api-store-listjobruns ./internal/store -run '^$' -bench '^BenchmarkListJobRuns$' -benchtime 500x -count 1 -timeout 30m
	# issue 12: store migrate's copy of 100k job runs from SQLite into PostgreSQL, verified.
	run api-store-migrate ./internal/store -run '^$' -bench '^BenchmarkCopyToPostgres$' -benchtime 1x -count 1 -timeout 15m
fi

if [[ -z $only || $only == cluster ]]; then
	# One test binary (and one fresh test cluster) per round, so the raw and sparkplane
	# throughput runs interleave instead of running back to back (go test -count would repeat
	# each sub-benchmark before the next).
	: >"$out/cluster.txt"
	for round in $(seq 1 "$count"); do
		profile=()
		if [[ -n ${BENCH_PROFILE:-} ]]; then
			profile=(-cpuprofile "$PWD/$out/cluster-$round.cpu.pprof" -o "$PWD/$out/bench.test")
		fi
		run "cluster-$round" ./test/bench -run '^$' -bench . -benchtime 1x -count 1 -timeout 15m "${profile[@]}" \
			-args -jobs "${BENCH_JOBS:-500}" -rate "${BENCH_RATE:-10}" -duration "${BENCH_DURATION:-25s}" \
			-log-dir "$PWD/$out/logs-$round"
		cat "$out/cluster-$round.txt" >>"$out/cluster.txt"
	done
fi

if [[ -z $only || $only == sandbox ]]; then
	# A sandbox of its own, so a user's .sandbox is never touched; stopped by its pids at the end.
	make build >/dev/null
	sbx=$PWD/$out/sandbox
	bin/sparkplane-sandbox down --dir "$sbx" >/dev/null 2>&1 || true
	bin/sparkplane-sandbox up --dir "$sbx" >"$out/sandbox-up.txt"
	trap 'bin/sparkplane-sandbox down --dir "$sbx" >/dev/null 2>&1 || true' EXIT
	: >"$out/sandbox.txt"
	for round in $(seq 1 "$count"); do
		run "sandbox-throughput-$round" ./test/load -run '^$' -bench '^BenchmarkSandboxThroughput$' -benchtime 1x -count 1 -timeout 30m \
			-args -sandbox "$sbx" -jobs "${BENCH_JOBS:-600}"
		cat "$out/sandbox-throughput-$round.txt" >>"$out/sandbox.txt"
	done
	run sandbox-latency ./test/load -run '^$' -bench '^BenchmarkSandboxLatency$' -benchtime 1x -count 1 -timeout 30m \
		-args -sandbox "$sbx" -rate "${BENCH_RATE:-10}" -duration "${BENCH_DURATION:-30s}"
	# issue 11: the console's job list page on the sandbox's own server, 100k runs, a job running.
	run sandbox-console ./test/load -run '^$' -bench '^BenchmarkSandboxConsolePage$' -benchtime 300x -count 1 -timeout 20m \
		-args -sandbox "$sbx"
	run sandbox-live ./test/load -run '^$' -bench '^BenchmarkSandboxLiveRuns$' -benchtime 1x -count 1 -timeout 60m \
		-args -sandbox "$sbx" -live "${BENCH_LIVE:-10000}"
	cat "$out/sandbox-latency.txt" "$out/sandbox-console.txt" "$out/sandbox-live.txt" >>"$out/sandbox.txt"
	bin/sparkplane-sandbox status --dir "$sbx" | tee "$out/sandbox-status.txt" || failed=1
fi

# The summary: the median of every metric of every benchmark over its runs, then the targets.
# Only what this run wrote: files of parts not run (BENCH_ONLY) are older results.
results=()
for f in "$out"/api-*.txt "$out/cluster.txt" "$out/sandbox.txt"; do
	[[ -f $f && $f -nt $out/.started ]] && results+=("$f")
done
cat "${results[@]}" /dev/null | awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		if (!(name in seen)) { seen[name] = 1; order[++n] = name }
		for (i = 5; i + 1 <= NF; i += 2) {
			if ($i !~ /^[0-9.e+-]+$/) continue
			key = name SUBSEP $(i + 1)
			if (!(key in cnt)) units[name] = units[name] " " $(i + 1)
			vals[key, ++cnt[key]] = $i
		}
	}
	function median(key,   k, m, i, j, t, a) {
		m = cnt[key]
		for (i = 1; i <= m; i++) a[i] = vals[key, i] + 0
		for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		printf "\n%-44s %-20s %12s %5s\n", "benchmark", "metric", "median", "runs"
		for (b = 1; b <= n; b++) {
			name = order[b]; k = split(units[name], u, " ")
			for (i = 1; i <= k; i++) {
				key = name SUBSEP u[i]; med[name, u[i]] = median(key)
				printf "%-44s %-20s %12.4g %5d\n", name, u[i], med[name, u[i]], cnt[key]
			}
		}
		sp = "BenchmarkThroughput/sparkplane"
		if ((sp SUBSEP "jobs/s") in cnt) {
			printf "\nissue 4 targets (medians):\n"
			t("sustained jobs/s >= 100", med[sp, "jobs/s"], med[sp, "jobs/s"] >= 100)
			t("sparkplane/raw >= 0.5", med[sp, "ratio_vs_raw"], med[sp, "ratio_vs_raw"] >= 0.5)
		}
		if (("BenchmarkLatency" SUBSEP "p99_ms") in cnt)
			t("p99 at steady rate < 200 ms", med["BenchmarkLatency", "p99_ms"], med["BenchmarkLatency", "p99_ms"] < 200)
		pol = "BenchmarkStartJobRunWithPolicies"
		if ((pol SUBSEP "ratio") in cnt) {
			printf "\nissue 9 targets (medians):\n"
			t("user with 20 policies / admin >= 0.9", med[pol, "ratio"], med[pol, "ratio"] >= 0.9)
			ev = "BenchmarkEvaluate/policies=20"
			if ((ev SUBSEP "cpu-ns/op") in cnt)
				t("policy evaluation, 20 policies < 50 us", med[ev, "cpu-ns/op"] / 1000, med[ev, "cpu-ns/op"] < 50000)
		}
		cp = "BenchmarkJobRunsPage/console-first-page"
		if ((cp SUBSEP "p99-ms") in cnt) {
			printf "\nissue 11 targets (medians):\n"
			t("job list page, 100k runs, p99 < 100 ms", med[cp, "p99-ms"], med[cp, "p99-ms"] < 100)
			dp = "BenchmarkJobRunsPage/console-deep-page"
			if ((dp SUBSEP "p99-ms") in cnt)
				t("half-way page, 100k runs, p99 < 100 ms", med[dp, "p99-ms"], med[dp, "p99-ms"] < 100)
		}
		sc = "BenchmarkSandboxConsolePage/console-first-page"
		if ((sc SUBSEP "p99-ms") in cnt) {
			printf "\nissue 11 targets, whole sandbox up (medians):\n"
			t("job list page, 100k runs, p99 < 100 ms", med[sc, "p99-ms"], med[sc, "p99-ms"] < 100)
		}
		st = "BenchmarkSandboxThroughput"
		if ((st SUBSEP "ratio_vs_raw") in cnt) {
			printf "\nissue 8 targets, whole sandbox up (medians):\n"
			t("sparkplane/raw >= 0.8", med[st, "ratio_vs_raw"], med[st, "ratio_vs_raw"] >= 0.8)
		}
		if (("BenchmarkSandboxLatency" SUBSEP "p99_ms") in cnt)
			t("p99 submit->pod at 10/s < 100 ms", med["BenchmarkSandboxLatency", "p99_ms"], med["BenchmarkSandboxLatency", "p99_ms"] < 100)
		if (("BenchmarkSandboxLiveRuns" SUBSEP "server_rss_MB") in cnt)
			t("server RSS, 10k live runs < 200 MB", med["BenchmarkSandboxLiveRuns", "server_rss_MB"], med["BenchmarkSandboxLiveRuns", "server_rss_MB"] < 200)
	}
	function t(what, v, ok) { printf "  %-32s %10.4g  %s\n", what, v, ok ? "met" : "MISSED" }
' | tee "$out/summary.txt"

echo "raw output in $out/ ($((SECONDS - start)) s)"
exit $failed
