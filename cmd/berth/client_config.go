package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/berth/berth/web/client"
)

// The client commands (images, library, wallet, login) talk to a Berth
// server over its JSON API; they never open a database. Where to and as
// whom comes from BERTH_URL and BERTH_TOKEN when set, else from what
// `berth login` saved.

// defaultServer is the address a client uses when nothing names one.
const defaultServer = "http://localhost:8080"

// clientConfig is what `berth login` saves.
type clientConfig struct {
	URL   string `json:"url"`
	Token string `json:"token,omitempty"`
}

// userConfigDir is os.UserConfigDir read from the given environment, so
// tests (and run's callers) choose it: $XDG_CONFIG_HOME, else ~/.config on
// Unix; the operating system's place elsewhere.
func userConfigDir(getenv func(string) string) (string, error) {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "plan9":
		return os.UserConfigDir()
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config"), nil
	}
	return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME is set, so there is no place to keep the log-in: set BERTH_URL and BERTH_TOKEN instead")
}

// configPath is the file `berth login` writes: <config dir>/berth/config.json.
func configPath(getenv func(string) string) (string, error) {
	dir, err := userConfigDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "berth", "config.json"), nil
}

// loadClientConfig reads the saved log-in; none saved is not an error.
func loadClientConfig(getenv func(string) string) (clientConfig, string, error) {
	var cfg clientConfig
	path, err := configPath(getenv)
	if err != nil {
		return cfg, "", err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, path, nil
	}
	if err != nil {
		return cfg, path, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, path, fmt.Errorf("%s is not a berth log-in file (%v): run berth login again", path, err)
	}
	return cfg, path, nil
}

// saveClientConfig writes the log-in readable by its owner only (0600, in
// a 0700 directory), replacing any earlier one in one rename.
func saveClientConfig(path string, cfg clientConfig) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save the log-in: %w", err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return fmt.Errorf("save the log-in: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save the log-in: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save the log-in: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save the log-in: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save the log-in: %w", err)
	}
	return nil
}

// newClient makes the API client the environment and the saved log-in
// describe: BERTH_URL and BERTH_TOKEN win over the file.
func newClient(getenv func(string) string) (*client.Client, error) {
	cfg, _, err := loadClientConfig(getenv)
	if err != nil && (getenv("BERTH_URL") == "" || getenv("BERTH_TOKEN") == "") {
		return nil, err
	}
	url, token := cfg.URL, cfg.Token
	if v := getenv("BERTH_URL"); v != "" {
		url = v
	}
	if v := getenv("BERTH_TOKEN"); v != "" {
		token = v
	}
	if url == "" {
		url = defaultServer
	}
	return client.New(url, token)
}

// clientFlags is a flag set for a client command; positional arguments may
// come before or after flags, as for the operator's commands.
type clientFlags struct {
	fs  *flag.FlagSet
	pos []string
}

func newClientFlags(name string, stderr io.Writer) *clientFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &clientFlags{fs: fs}
}

func (f *clientFlags) parse(args []string) error {
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

// outputFlag adds --output table|json.
func (f *clientFlags) outputFlag() *string {
	return f.fs.String("output", "table", "table (for people) or json (the API's data, for scripts)")
}

func checkOutput(o string) error {
	if o != "table" && o != "json" {
		return usageError{fmt.Sprintf("--output %q: use table or json", o)}
	}
	return nil
}

// cmdLogin is `berth login [--url URL] [--token TOKEN]`: it checks the token
// against the server and saves both for the other client commands. Without
// --token the token is read from standard input, which keeps it out of
// the shell's history.
func cmdLogin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, path, err := loadClientConfig(getenv)
	if err != nil && path == "" {
		return err
	}
	def := cfg.URL
	if v := getenv("BERTH_URL"); v != "" {
		def = v
	}
	if def == "" {
		def = defaultServer
	}
	f := newClientFlags("login", stderr)
	url := f.fs.String("url", def, "the Berth server's address (env BERTH_URL)")
	token := f.fs.String("token", "", "an API token from the server's account page or `berth token create` (read from standard input when not given)")
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) > 0 {
		return usageError{fmt.Sprintf("login takes no arguments, got %q", f.pos)}
	}
	if _, err := client.ParseServerURL(*url); err != nil {
		return usageError{err.Error()}
	}
	tok := strings.TrimSpace(*token)
	if tok == "" {
		fmt.Fprintf(stderr, "API token for %s (create one on its account page): ", *url)
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the token: %w", err)
		}
		tok = strings.TrimSpace(line)
		if tok == "" {
			return usageError{"no token given: pass --token or type it on standard input"}
		}
	}
	c, err := client.New(*url, tok)
	if err != nil {
		return usageError{err.Error()}
	}
	// A token that the server refuses is not saved.
	if _, err := c.Balances(ctx); err != nil {
		return fmt.Errorf("log in to %s: %w", c.BaseURL(), err)
	}
	if err := saveClientConfig(path, clientConfig{URL: c.BaseURL(), Token: tok}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Logged in to %s; saved in %s\n", c.BaseURL(), path)
	return nil
}
