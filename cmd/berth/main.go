// Command berth runs the Berth image portal and its operator subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/static"
	"github.com/berth/berth/store"
	"github.com/berth/berth/store/blobs"
	"github.com/berth/berth/store/oci"
	"github.com/berth/berth/store/synth"
	"github.com/berth/berth/web"
)

// version is stamped at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "berth:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(1)
	}
}

// commandError is a failed command as a person reads it: what failed and
// the store's message meant for them, followed, for an internal error
// (whose message is only "Internal error."), by its whole cause.
type commandError struct {
	op  string
	err error
}

// failed wraps err for printing (see commandError).
func failed(op string, err error) error { return &commandError{op: op, err: err} }

func (e *commandError) Error() string {
	msg := e.op + ": " + store.ErrorMessage(e.err)
	if store.ErrorCode(e.err) == store.EINTERNAL {
		msg += "\n  cause: " + e.err.Error()
	}
	return msg
}

func (e *commandError) Unwrap() error { return e.err }

// usageError is a mistake on the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `Usage: berth [command] [flags]

Client commands call any Berth server's API, at BERTH_URL with BERTH_TOKEN
or as saved by berth login:
  login [--url URL] [--token T]  check an API token, save it and the address
  images list [--search S] [--os OS] [--architecture A] [--variant V]
      [--min-price USD] [--max-price USD] [--min-rating R] [--sort-by K]
      [--sort-order asc|desc] [--page N] [--limit N]
                                 search the catalog
  images show ALIAS|ID [--architecture A]
                                 every property of one image, and its docs
  images import ALIAS|ID         add a free image to your library
  images buy ALIAS|ID [--expected-price USD] [--idempotency-key K]
                                 buy a paid image from your wallet
  images rate ALIAS|ID RATING    rate an image in your library, 0 to 5
  library                        the images you imported or bought
  wallet                         your balance and its history
  (list, show, library and wallet take --output table|json)

Operator commands work on the database itself (--db PATH, default
./berth.db or $BERTH_DB, created and migrated when needed; serve, image and
check also take --blobs DIR, default PATH.blobs or $BERTH_BLOBS). A
postgres:// URL as --db selects PostgreSQL, for several instances on one
database (serve then needs BERTH_SESSION_KEY, the same on every instance, and
--blobs, default ./berth.blobs); backups are pg_dump's job:
  serve [--addr :8080] [--signup=true] [--trust-proxy] [--demo]
      [--metrics-addr ADDR] [--metrics] [--public-url URL]
      [--anonymous-pull] [--pull-through] [--stale-scan 30d]
                                 run the web portal and API (the default)
  user create --email E --password P
                                 create an account
  user password --email E --password P
                                 set a password; signs the account out
  token create --email E [--name N]
                                 print a new API token for an account
  wallet credit --email E --amount USD
                                 add funds to an account's wallet
  voucher create --amount USD [--count N] [--expires 30d]
                                 print one-time codes people redeem
  demo                           add demo users, ratings and a funded account
  catalog import FILE            add or update images from a file (- = stdin)
  catalog export                 write the catalog as JSON to stdout
  catalog generate --count N [--seed S]
                                 add N synthetic images for load tests
  image load --alias A --architecture X FILE
                                 load a build (OCI layout, oci-archive or
                                 docker save tarball) for the registry
  image load --format incus --alias A --architecture X METADATA ROOTFS
                                 load an Incus image for simplestreams
  image gc [--grace 1h]          remove blobs no loaded build references
  backup FILE                    write a consistent copy of the database
  check [--deep]                 verify the database and its blobs (--deep
                                 re-hashes them); exits 1 on a violation
  migrate-to URL                 copy this SQLite database into an empty
                                 PostgreSQL one, verified
  version                        print the version
  help                           this list

berth COMMAND --help lists a command's flags.
`

// run is main without the process: arguments, environment and streams come
// in, so tests can call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	// Flags may come before the command (berth --db x catalog export): set
	// them aside and hand them to the command after its own arguments.
	var leading []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		leading = append(leading, args[0])
		takesValue := !strings.Contains(args[0], "=") && args[0] != "-h" && args[0] != "--help"
		args = args[1:]
		if takesValue && len(args) > 0 {
			leading, args = append(leading, args[0]), args[1:]
		}
	}
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	} else if slices.ContainsFunc(leading, func(a string) bool { return a == "-h" || a == "--help" || a == "-help" }) {
		// berth --help is the list of commands; berth serve --help, serve's flags.
		cmd = "help"
	}
	args = append(args, leading...)
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, getenv, stdout, stderr)
	case "catalog":
		if len(args) == 0 {
			return usageError{"catalog needs a subcommand: import FILE or export"}
		}
		switch args[0] {
		case "import":
			return cmdCatalogImport(ctx, args[1:], getenv, stdin, stdout, stderr)
		case "export":
			return cmdCatalogExport(ctx, args[1:], getenv, stdout, stderr)
		case "generate":
			return cmdCatalogGenerate(ctx, args[1:], getenv, stdout, stderr)
		}
		return usageError{fmt.Sprintf("unknown catalog subcommand %q: use import FILE or export", args[0])}
	case "backup":
		return cmdBackup(ctx, args, getenv, stdout, stderr)
	case "images":
		return cmdImages(ctx, args, getenv, stdout, stderr)
	case "library":
		return cmdLibrary(ctx, args, getenv, stdout, stderr)
	case "login":
		return cmdLogin(ctx, args, getenv, stdin, stdout, stderr)
	case "wallet":
		if len(args) == 0 || args[0] != "credit" {
			return cmdWallet(ctx, args, getenv, stdout, stderr)
		}
		return cmdWalletCredit(ctx, args[1:], getenv, stdout, stderr)
	case "user", "token":
		if cmd == "user" && len(args) > 0 && args[0] == "password" {
			return cmdUserPassword(ctx, args[1:], getenv, stdout, stderr)
		}
		want := map[string]string{"user": "create", "token": "create"}[cmd]
		if len(args) == 0 || args[0] != want {
			return usageError{fmt.Sprintf("use: berth %s %s ...", cmd, want)}
		}
		switch cmd {
		case "user":
			return cmdUserCreate(ctx, args[1:], getenv, stdout, stderr)
		default:
			return cmdTokenCreate(ctx, args[1:], getenv, stdout, stderr)
		}
	case "voucher":
		if len(args) == 0 || args[0] != "create" {
			return usageError{"use: berth voucher create --amount USD [--count N] [--expires 30d]"}
		}
		return cmdVoucherCreate(ctx, args[1:], getenv, stdout, stderr)
	case "image":
		if len(args) > 0 && args[0] == "load" {
			return cmdImageLoad(ctx, args[1:], getenv, stdout, stderr)
		}
		if len(args) > 0 && args[0] == "gc" {
			return cmdImageGC(ctx, args[1:], getenv, stdout, stderr)
		}
		return usageError{"use: berth image load --alias A --architecture X FILE, or berth image gc"}
	case "demo":
		return cmdDemo(ctx, args, getenv, stdout, stderr)
	case "check":
		return cmdCheck(ctx, args, getenv, stdout, stderr)
	case "migrate-to":
		return cmdMigrateTo(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "berth", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n\n%s", cmd, usage)}
}

// flags is a flag set with the --db flag every command shares. Positional
// arguments may come before or after flags.
type flags struct {
	fs  *flag.FlagSet
	db  *string
	pos []string
}

func newFlags(name string, getenv func(string) string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flags{fs: fs, db: fs.String("db", envOr(getenv, "BERTH_DB", "./berth.db"), "database: a SQLite file, or a postgres:// URL (env BERTH_DB)")}
}

func (f *flags) parse(args []string) error {
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return usageError{"help requested"}
			}
			return usageError{err.Error()}
		}
		args = f.fs.Args()
		if len(args) == 0 {
			return nil
		}
		f.pos = append(f.pos, args[0])
		args = args[1:]
	}
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// defaultMemoryLimit is serve's soft memory limit for the Go heap: a cap
// for catalogs far beyond the sizes measured, not a target. At a million
// images the heap held about 85 MB (125 MB since listed rows have 32 MB of
// their own); with 100 MiB here the collector had
// 15 MB of room and ran every 3 to 4 ms under load (1,899 collections in a
// minute), and catalog pages at 1,000/s waited 232 ms at p99. Below the
// limit the collector paces itself (GOGC=100, a heap goal of twice the
// live heap): 38 collections, p99 7.9 ms, a peak RSS of 226 MB.
const defaultMemoryLimit = 512 << 20

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("serve", getenv, stderr)
	addr := f.fs.String("addr", envOr(getenv, "BERTH_ADDR", ":8080"), "listen address (env BERTH_ADDR)")
	signup := f.fs.Bool("signup", envOr(getenv, "BERTH_SIGNUP", "true") == "true", "let visitors create accounts (env BERTH_SIGNUP)")
	trustProxy := f.fs.Bool("trust-proxy", getenv("BERTH_TRUST_PROXY") == "true", "believe X-Forwarded-Proto from a TLS-ending proxy (env BERTH_TRUST_PROXY)")
	demo := f.fs.Bool("demo", false, "add demo users, ratings and a funded demo account before serving")
	logFormat := f.fs.String("log-format", envOr(getenv, "BERTH_LOG_FORMAT", "text"), "log format: text or json (env BERTH_LOG_FORMAT)")
	apiRate := f.fs.Int("api-rate", web.DefaultAPIRate, "API calls per minute per account's tokens; -1 for no limit")
	purchaseRate := f.fs.Int("purchase-rate", web.DefaultPurchaseRate, "purchases per minute per account; -1 for no limit")
	metricsAddr := f.fs.String("metrics-addr", getenv("BERTH_METRICS_ADDR"), "serve /metrics on this address, apart from the main one (env BERTH_METRICS_ADDR)")
	staleScan := f.fs.String("stale-scan", envOr(getenv, "BERTH_STALE_SCAN", "30d"), "flag an image's scan as stale once older than this, e.g. 30d; off for never (env BERTH_STALE_SCAN)")
	metricsMain := f.fs.Bool("metrics", getenv("BERTH_METRICS") == "true", "serve /metrics on the main address too, open to anyone who reaches it (env BERTH_METRICS)")
	publicURL := f.fs.String("public-url", getenv("BERTH_PUBLIC_URL"), "the address people reach Berth at, such as https://berth.example.com, for snippets and the registry (env BERTH_PUBLIC_URL; default: the request's host)")
	blobDir := f.blobsFlag(getenv)
	anonymousPull := f.fs.Bool("anonymous-pull", getenv("BERTH_ANONYMOUS_PULL") == "true", "let anyone pull free images from the registry without signing in (env BERTH_ANONYMOUS_PULL)")
	pullThrough := f.fs.Bool("pull-through", getenv("BERTH_PULL_THROUGH") == "true", "fetch images with no loaded content from their upstream pull_ref on first pull, and cache them (env BERTH_PULL_THROUGH)")
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", f.pos)}
	}
	if *publicURL != "" {
		if u, err := url.Parse(*publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageError{fmt.Sprintf("--public-url %q: give a URL such as https://berth.example.com", *publicURL)}
		}
	}
	staleAge := time.Duration(-1) // off
	if *staleScan != "off" {
		var err error
		if staleAge, err = parseSpan("--stale-scan", *staleScan); err != nil {
			return err
		}
	}
	var logger *slog.Logger
	switch *logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		return usageError{fmt.Sprintf("--log-format %q: use text or json", *logFormat)}
	}

	db, err := openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetLogger(logger)
	if loaded, err := db.LoadDefaultCatalog(ctx); err != nil {
		return err
	} else if loaded {
		logger.Info("loaded the default catalog into an empty database", "db", dbName(*f.db))
	}
	if *demo {
		if err := seedDemo(ctx, db, stdout); err != nil {
			return err
		}
	}
	// Listings use SQL until the in-memory listing index is ready; start
	// building it now rather than on the first listing.
	db.PrepareListings()
	// A soft memory limit, so that a heap far larger than any measured
	// catalog's is collected more often rather than growing on; the
	// catalogs measured never reach it. The operator's GOMEMLIMIT wins (the runtime reads it from the process
	// environment; "off" removes the limit).
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	keys, err := sessionKeys(getenv, *f.db)
	if err != nil {
		return err
	}
	assets, err := static.Load()
	if err != nil {
		return fmt.Errorf("load static files: %w", err)
	}
	if !assets.Has("js/htmx.min.js") {
		logger.Warn("htmx is missing (run `make assets`); pages work without it but lose in-place updates")
	}
	// Metrics are off unless asked for: on the main address they would be
	// public, and they tell how busy the server is and what it runs.
	var metrics *web.Metrics
	if *metricsAddr != "" || *metricsMain {
		metrics = web.NewMetrics()
		metrics.WatchListings(db.ListingIndexStatus)
		metrics.WatchListingFailures(db.ListingIndexBuildFailures)
	}
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("listen for metrics on %s: %w", *metricsAddr, err)
		}
		msrv := &http.Server{Handler: metrics.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go msrv.Serve(mln)
		defer msrv.Close()
		logger.Info("metrics are served separately", "addr", mln.Addr().String())
	}
	site, err := docs.Load()
	if err != nil {
		return err
	}
	bs, err := blobs.Open(blobDir())
	if err != nil {
		return err
	}
	var upstream web.PullThrough
	if *pullThrough {
		upstream = oci.NewPullThrough(bs, db, logger)
	}
	srv := &http.Server{
		Handler: web.New(db, assets, site, logger, web.Options{
			SignupOpen: *signup, TrustProxy: *trustProxy, SessionKeys: keys,
			Metrics: metrics, MetricsOnMainAddr: *metricsMain,
			APIRate: *apiRate, PurchaseRate: *purchaseRate, StaleScan: staleAge,
			PublicURL: *publicURL, Blobs: bs, AnonymousPull: *anonymousPull, PullThrough: upstream,
		}).Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// Requests carry ctx's values but not its end: when a signal ends
		// ctx, Shutdown stops accepting and lets requests in flight finish
		// (a purchase waiting on the database commits and is answered),
		// where ending their context too would fail them halfway.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	logger.Info("berth is serving", "addr", ln.Addr().String(), "db", dbName(*f.db), "version", version)
	fmt.Fprintf(stdout, "Berth is running on http://%s\n", displayAddr(ln.Addr()))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// displayAddr turns a listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func cmdCatalogImport(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	f := newFlags("catalog import", getenv, stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) != 1 {
		return usageError{"catalog import takes one FILE (or - for standard input)"}
	}
	in := stdin
	if f.pos[0] != "-" {
		file, err := os.Open(f.pos[0])
		if err != nil {
			return fmt.Errorf("catalog import: %w", err)
		}
		defer file.Close()
		in = file
	}
	db, err := openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ImportCatalog(ctx, in)
	if err != nil {
		return fmt.Errorf("catalog import %s: %w", f.pos[0], err)
	}
	fmt.Fprintf(stdout, "%d added, %d updated, %d unchanged\n", res.Added, res.Updated, res.Unchanged)
	return nil
}

func cmdCatalogExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("catalog export", getenv, stderr)
	db, err := openFor(ctx, f, args)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.ExportCatalog(ctx, stdout)
}

func cmdBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("backup", getenv, stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) != 1 {
		return usageError{"backup takes one FILE to write"}
	}
	db, err := openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, f.pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", dbName(*f.db), f.pos[0])
	return nil
}

// cmdCheck verifies a database: SQLite's integrity, balances against the
// ledger, rating aggregates against their rows, purchases against libraries.
func cmdCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("check", getenv, stderr)
	blobDir := f.blobsFlag(getenv)
	deep := f.fs.Bool("deep", false, "re-hash every referenced blob")
	if err := f.parse(args); err != nil {
		return err
	}
	// Checking must not create: a mistyped path is an error, not a pass.
	if err := mustExist(ctx, *f.db); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	db, err := openFor(ctx, f, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	problems, err := db.Check(ctx)
	if err != nil {
		return err
	}
	blobProblems, err := checkBlobs(ctx, db, blobDir(), *deep)
	if err != nil {
		return fmt.Errorf("check blobs: %w", err)
	}
	problems = append(problems, blobProblems...)
	if len(problems) == 0 {
		fmt.Fprintf(stdout, "%s: all checks passed\n", dbName(*f.db))
		return nil
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, "FAIL", p)
	}
	return fmt.Errorf("check: %d problem(s) in %s", len(problems), dbName(*f.db))
}

func cmdCatalogGenerate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("catalog generate", getenv, stderr)
	count := f.fs.Int("count", 0, "how many images to add")
	seed := f.fs.Uint64("seed", 1, "random seed; the same seed gives the same images")
	db, err := openFor(ctx, f, args)
	if err != nil {
		return err
	}
	defer db.Close()
	loader, ok := db.(synth.Loader)
	if !ok {
		return fmt.Errorf("catalog generate: this database backend has no bulk loader")
	}
	start := time.Now()
	n, err := synth.Generate(ctx, loader, *count, *seed)
	if err != nil {
		return fmt.Errorf("catalog generate: %w", err)
	}
	fmt.Fprintf(stdout, "generated %d images in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
