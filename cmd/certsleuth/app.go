package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes, the same for every command.
const (
	exitOK    = 0 // nothing would warn
	exitWarn  = 1 // a request would make a client warn
	exitUsage = 2 // bad usage or unreadable input
	// exitNotJudged: nothing judged would warn, but something was not
	// judged (a certificate not seen or unreadable, input skipped): never
	// a clean bill.
	exitNotJudged = 3
)

// exitError carries an exit code out of a command. A nil err exits quietly.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// usageErr is bad usage or unreadable input: exit 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// inputErr wraps an error reading input: exit 2.
func inputErr(err error) error { return &exitError{code: exitUsage, err: err} }

// errWarn is returned when the report says a client would warn: exit 1, no message.
var errWarn = &exitError{code: exitWarn}

// errNotJudged is returned when nothing judged would warn but some
// connection or input could not be judged: exit 3, no message (the
// report's headline says what).
var errNotJudged = &exitError{code: exitNotJudged}

const helpTemplate = `certsleuth finds the request that makes a client warn "the name of the security
certificate is invalid or does not match the name of the site", and what to change.

USAGE:
   certsleuth COMMAND [flags] [args]     (flags go before arguments)

EXAMPLES:
   certsleuth demo                                  the wrong-host-URL case, staged on this machine
   certsleuth match --cert mail.pem exch01.contoso.local mail.contoso.com
   certsleuth check https://mail.contoso.com/EWS/Exchange.asmx
   certsleuth proxy --record outlook.jsonl         point Outlook or a phone at 127.0.0.1:8080
   certsleuth pcap --record cap.jsonl capture.pcapng
   certsleuth replay --cert new-cert.pem outlook.jsonl

COMMANDS:{{range .VisibleCommands}}
   {{join .Names ", "}}{{"\t"}}{{.Usage}}{{end}}

GLOBAL FLAGS:{{range .VisibleFlags}}
   {{.}}{{end}}

EXIT CODES:
   0  nothing would make a client warn
   1  a request (or name) would make a client warn
   2  bad usage or unreadable input
   3  nothing judged would warn, but some connection could not be judged
      (certificate not seen or not readable) or input was skipped

Run 'certsleuth help COMMAND' for a command's flags, examples and exit codes.
`

// commandHelp is the help layout of every subcommand: usage, description
// (with EXAMPLES and EXIT CODES), then flags.
const commandHelp = `NAME:
   {{.HelpName}} - {{.Usage}}

USAGE:
   {{.HelpName}}{{if .VisibleFlags}} [flags]{{end}}{{if .ArgsUsage}} {{.ArgsUsage}}{{end}}
   Flags must come before the arguments.
{{if .Description}}
{{.Description}}
{{end}}{{if .VisibleCommands}}
COMMANDS:{{range .VisibleCommands}}
   {{join .Names ", "}}{{"\t"}}{{.Usage}}{{end}}
{{end}}{{if .VisibleFlags}}
FLAGS:{{range .VisibleFlags}}
   {{.}}{{end}}
{{end}}`

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                  "certsleuth",
		Usage:                 "find the request behind a certificate name warning",
		Version:               version,
		Writer:                stdout,
		ErrWriter:             stderr,
		HideHelpCommand:       false,
		CustomAppHelpTemplate: helpTemplate,
		ExitErrHandler:        func(*cli.Context, error) {},
		Suggest:               true,
		Commands: []*cli.Command{
			demoCommand(),
			matchCommand(),
			checkCommand(),
			replayCommand(),
			pcapCommand(),
			proxyCommand(),
			caCommand(),
			explainErrorCommand(),
			checksCommand(),
		},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageErr("%v", err)
		},
	}
	for _, c := range app.Commands {
		setHelp(c)
	}
	return app
}

func setHelp(c *cli.Command) {
	c.CustomHelpTemplate = commandHelp
	// A command without subcommands gets no "help" subcommand: urfave/cli
	// would take a NAME or FILE called h or help for it (-h and --help
	// still show the help).
	if len(c.Subcommands) == 0 {
		c.HideHelpCommand = true
	}
	if c.OnUsageError == nil {
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
			return usageErr("%s: %v (see 'certsleuth help %s')", c.Name, err, c.Name)
		}
	}
	for _, s := range c.Subcommands {
		setHelp(s)
	}
}

// run runs certsleuth with args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	app.Setup() // adds the help command, so it is found below
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") && app.Command(args[1]) == nil {
		msg := fmt.Sprintf("unknown command %q (see 'certsleuth help')", args[1])
		if s := suggestCommand(app, args[1]); s != "" && !strings.Contains(s, `""`) {
			msg = fmt.Sprintf("unknown command %q. %s (see 'certsleuth help')", args[1], s)
		}
		printErr(stderr, errors.New(msg))
		return exitUsage
	}
	app.Metadata = map[string]any{rawArgs: args} // see refuseLateFlags
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			printErr(stderr, ee.err)
		}
		return ee.code
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			printErr(stderr, err)
		}
		if code := ec.ExitCode(); code <= exitUsage {
			return code
		}
		return exitUsage // urfave/cli's own errors (unknown help topic) are usage errors
	}
	printErr(stderr, err)
	if strings.Contains(err.Error(), "flag provided but not defined") || strings.Contains(err.Error(), "No help topic") {
		return exitUsage
	}
	return exitUsage
}

func printErr(w io.Writer, err error) {
	msg := err.Error()
	hint := ""
	if i := strings.Index(msg, "\nhint: "); i >= 0 {
		msg, hint = msg[:i], msg[i+len("\nhint: "):]
	}
	fmt.Fprintf(w, "certsleuth: error: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(w, "certsleuth: hint: %s\n", hint)
	}
}

// withHint attaches a hint line to err, printed as "certsleuth: hint: ...".
func withHint(err error, hint string) error {
	return fmt.Errorf("%w\nhint: %s", err, hint)
}

// suggestCommand returns urfave/cli's "Did you mean ...?" for name, or "".
func suggestCommand(app *cli.App, name string) string {
	if cli.SuggestCommand == nil {
		return ""
	}
	return cli.SuggestCommand(app.Commands, name)
}
