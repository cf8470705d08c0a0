# The two commands the README promises: `make run` and `make test`.
GO      ?= go
BIN     := bin/dynamo
NODES   ?= 5
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build run test faults bench fuzz lint clean image

build:
	$(GO) build -o $(BIN) ./cmd/dynamo

# Starts a local cluster of $(NODES) node processes on loopback; Ctrl-C stops it.
run: build
	./$(BIN) dev --nodes $(NODES)

# The whole suite: vet, then every test (fuzz seed corpora included).
test:
	$(GO) vet ./...
	@docker info >/dev/null 2>&1 || echo "make test: no Docker engine answers, so the compose cluster test (deploy/) is skipped"
	$(GO) test -count=1 -timeout 240s ./...
	cd bench/olric && $(GO) vet ./... && $(GO) test -count=1 -timeout 120s ./...

# The fault-injection suite: every nemesis against 3 and 5 node processes on
# hosts of their own (network namespaces, as root), then the history check.
# FAULTSFLAGS passes flags, e.g. FAULTSFLAGS='-nodes 5 -nemesis kill,partition'.
faults: build
	$(GO) run ./faults/cmd/faults -bin $(BIN) $(FAULTSFLAGS)

# Actor-level benchmarks: the transport against hollywood's remote, the
# key-value path through three node processes, puts under failures with
# the hint replay rate through five, anti-entropy repairs, and a rebalance
# from three nodes to five, then YCSB side by side with olric (a module of
# its own, bench/olric; SIDEFLAGS passes flags). bench/README.md holds the
# figures; BENCHFLAGS=-readme makes kvbench rewrite its section there.
bench: build
	$(GO) run ./bench/cmd/benchall
	$(GO) run ./bench/cmd/kvbench -bin $(BIN) $(BENCHFLAGS)
	$(GO) run ./bench/cmd/hintbench -bin $(BIN)
	$(GO) run ./bench/cmd/aebench -bin $(BIN)
	$(GO) run ./bench/cmd/rebalancebench -bin $(BIN)
	cd bench/olric && $(GO) run ./cmd/sidebyside -bin ../../$(BIN) -readme -readme-file ../README.md $(SIDEFLAGS)

# The node image, FROM scratch: a static binary and nothing else.
# deploy/compose.yaml runs five nodes of it (see the README).
IMAGE ?= dynamo:dev
image:
	CGO_ENABLED=0 $(GO) build -trimpath -o deploy/docker/dynamo ./cmd/dynamo
	docker build -t $(IMAGE) deploy/docker

# Runs each fuzz target for FUZZTIME.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./messages -run '^$$' -fuzz FuzzDecodeFrame -fuzztime $(FUZZTIME)
	$(GO) test ./messages -run '^$$' -fuzz FuzzKVDecode -fuzztime $(FUZZTIME)
	$(GO) test ./version -run '^$$' -fuzz FuzzDecodeContext -fuzztime $(FUZZTIME)
	$(GO) test ./version -run '^$$' -fuzz FuzzUnmarshalSiblings -fuzztime $(FUZZTIME)

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

clean:
	rm -rf bin .dynamo-dev
