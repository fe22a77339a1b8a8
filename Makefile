# Berth: one binary, one SQLite file.
# `make run` and `make test` do all set-up on a fresh machine.

GO ?= go
HTMX := static/js/htmx.min.js
MORPH := static/js/idiomorph.min.js
PKG := ./...

.PHONY: all run build test lint-openapi generate check-generate assets fuzz release bench fmt clean screenshots

all: build

## run: start Berth on :8080 with ./berth.db (default catalog loaded on first start)
run: assets
	$(GO) run ./cmd/berth serve

## build: build the berth binary with everything embedded
build: assets
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o berth ./cmd/berth

## assets: copy the pinned htmx, idiomorph and axe-core from npm into place
assets: $(HTMX)

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)
	cp node_modules/idiomorph/dist/idiomorph.min.js $(MORPH)

## generate: regenerate templ views
generate:
	$(GO) tool templ generate

## check-generate: fail when committed templ output is stale (needs a git checkout)
check-generate: generate
	@git diff --exit-code -- '*_templ.go' || { echo "templ output is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- '*_templ.go')" || { echo "uncommitted *_templ.go files"; exit 1; }

## test: vet, the OpenAPI lint, then every test (browser tests and fuzz seed corpora included):
## the packages with concurrency of their own under the race detector, the
## rest without it
# RACE_PKG run goroutines that share memory (the listing index and its
# warm-ups, the connection pools, the server's caches, gates and limiters).
# The race detector instruments our code there but not SQLite itself
# (modernc.org/sqlite/lib, the C library translated to Go, which serialises
# its own work): under -race every query ran four times the CPU and ten
# times as long, and its accesses are not ours to check. modernc.org/libc
# stays instrumented: left out, the detector reported false races elsewhere.
RACE_PKG := ./store/sqlite ./web
RACE_FLAGS := -race -gcflags='modernc.org/sqlite/lib=-race=false'
test: assets lint-openapi
	$(GO) vet $(PKG)
	$(GO) test $(RACE_FLAGS) -count=1 -timeout 20m $(RACE_PKG)
	$(GO) test -count=1 -timeout 20m $$($(GO) list $(PKG) | grep -v -x -e '.*/store/sqlite' -e '.*/web')

## screenshots: rewrite docs/screenshots (catalog and image page, 1280 and 390 px)
screenshots: assets
	BERTH_SCREENSHOTS=1 $(GO) test ./web -run '^TestScreenshots$$' -count=1 -v

## lint-openapi: lint web/openapi.json with Redocly's CLI, pinned in package.json
## (rules in redocly.yaml: every warning fails); needs only npm
REDOCLY := node_modules/.bin/redocly
lint-openapi: $(REDOCLY)
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint --format=stylish web/openapi.json

$(REDOCLY): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(REDOCLY)

## fuzz: a short coverage-guided run of every fuzz target (FUZZTIME each)
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./store -run '^$$' -fuzz '^FuzzParseFilter$$' -fuzztime $(FUZZTIME)
	$(GO) test ./store -run '^$$' -fuzz '^FuzzParseCatalog$$' -fuzztime $(FUZZTIME)
	$(GO) test ./web -run '^$$' -fuzz '^FuzzRatingBody$$' -fuzztime $(FUZZTIME)
	$(GO) test ./docs -run '^$$' -fuzz '^FuzzMarkdown$$' -fuzztime $(FUZZTIME)

## release: static binaries for linux/amd64 and linux/arm64 in dist/, version stamped
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
release: assets
	mkdir -p dist
	for arch in amd64 arm64; do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath \
			-ldflags "-s -w -X main.version=$(VERSION)" -o dist/berth-linux-$$arch ./cmd/berth || exit 1; \
	done
	ls -l dist

## bench: open-loop load (vegeta) at 10k, 100k and 1M images on loopback, every row of issue 16
## with its knee, and a 1 GB blob from the registry against http.ServeFile; writes
## docs/benchmarks.md. The 100k catalog also runs on PostgreSQL (BERTH_TEST_PG's server,
## a schema of its own, dropped afterwards). BERTH_BENCH_SIZES=10000,100000 picks sizes and
## writes to BERTH_BENCH_DIR instead; BERTH_BENCH_PG=none|SIZES the PostgreSQL ones;
## BERTH_BENCH_ROWS a regexp of rows; BERTH_BENCH_PHASE the length of a step, 3s
bench:
	BERTH_BENCH=1 $(GO) test ./cmd/berth -run '^(TestBenchTable|TestBenchBlob)$$' -v -count=1 -timeout 120m

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f berth $(HTMX) $(MORPH)
