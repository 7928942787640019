package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/doctor"
	"github.com/gatehouse/gatehouse/store"
	"github.com/tidwall/gjson"
)

const doctorUsage = `Usage:
  gatehouse doctor [PROVIDER | PROVIDER/MODEL | MODEL] [--json]
Checks, in order: configuration, proxy, DNS, TCP connect, TLS, HTTP,
authentication, the model in the provider's list, rate limits. Without an
argument, every provider with a key. Exit 1 when a check fails.
`

// doctorTimeout bounds a running instance's doctor run: several providers,
// each with up to a few 10 s steps.
const doctorTimeout = 3 * time.Minute

// runDoctor is `gatehouse doctor`. With an instance running, that instance
// runs the checks, so that its keys (and keychain access) are the ones checked.
func runDoctor(args []string, stdout, stderr io.Writer, version string) error {
	fs := NewFlagSet("doctor", stderr)
	var cf Flags
	cf.Add(fs, false)
	asJSON := fs.Bool("json", false, "one JSON report per line")
	pos, err := Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return UsageError{Usage: doctorUsage}
	}
	what := ""
	if len(pos) == 1 {
		what = pos[0]
	}
	dataDir, cfg, err := cf.Open()
	if err != nil {
		return err
	}
	var reps []doctor.Report
	if c, ok := FindRunning(dataDir); ok {
		reps, err = doctorRemote(c, what)
	} else {
		reps, err = NewDoctor(cfg, version).For(context.Background(), cfg, what)
	}
	if err != nil {
		return err
	}
	return printReports(reps, *asJSON, stdout)
}

// NewDoctor is a doctor with cfg's keys read from the keychain (key_env keys
// only when it is unavailable, which the configuration check then names).
func NewDoctor(cfg *config.Config, version string) *doctor.Doctor {
	keys := store.NewKeys()
	err := keys.Load(KeyAccounts(cfg))
	return &doctor.Doctor{Keys: keys, KeysErr: err, Version: version}
}

func doctorRemote(c *Client, what string) ([]doctor.Report, error) {
	status, body, err := c.DoTimeout("POST", "doctor?what="+url.QueryEscape(what), nil, doctorTimeout)
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, errors.New(gjson.GetBytes(body, "error").String())
	}
	var reps []doctor.Report
	if err := json.Unmarshal(body, &reps); err != nil {
		return nil, fmt.Errorf("the running Gatehouse's doctor answer: %w", err)
	}
	return reps, nil
}

// errChecksFailed is the exit-1 outcome of a doctor run whose verdicts said why.
type errChecksFailed struct{ failed, all int }

func (e errChecksFailed) Error() string {
	return fmt.Sprintf("%d of %d checked providers fail (see the verdicts above)", e.failed, e.all)
}

func printReports(reps []doctor.Report, asJSON bool, stdout io.Writer) error {
	if asJSON {
		if err := writeJSONLines(stdout, reps); err != nil {
			return err
		}
	}
	failed := 0
	for i := range reps {
		if reps[i].Failed {
			failed++
		}
		if asJSON {
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := reps[i].Write(stdout); err != nil {
			return err
		}
	}
	if failed > 0 {
		return errChecksFailed{failed, len(reps)}
	}
	return nil
}
