# Berth: one binary, one SQLite file.
# `make run` and `make test` do all set-up on a fresh machine.

GO ?= go
HTMX := static/js/htmx.min.js
PKG := ./...

.PHONY: all run build test lint-openapi generate check-generate assets fuzz release bench fmt clean

all: build

## run: start Berth on :8080 with ./berth.db (default catalog loaded on first start)
run: assets
	$(GO) run ./cmd/berth serve

## build: build the berth binary with everything embedded
build: assets
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o berth ./cmd/berth

## assets: copy the pinned htmx from npm into the embedded static tree
assets: $(HTMX)

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)

## generate: regenerate templ views
generate:
	$(GO) tool templ generate

## check-generate: fail when committed templ output is stale (needs a git checkout)
check-generate: generate
	@git diff --exit-code -- '*_templ.go' || { echo "templ output is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- '*_templ.go')" || { echo "uncommitted *_templ.go files"; exit 1; }

## test: vet, the OpenAPI lint, race-checked tests (browser tests included), fuzz seed corpora
test: assets lint-openapi
	$(GO) vet $(PKG)
	$(GO) test -race -count=1 -timeout 20m $(PKG)

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

## bench: load benchmarks at 10k, 100k and 1M images on loopback; writes docs/benchmarks.md
bench:
	BERTH_BENCH=1 $(GO) test ./cmd/berth -run '^TestBenchTable$$' -v -count=1 -timeout 30m

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f berth $(HTMX)
