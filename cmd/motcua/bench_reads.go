package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/cmd/motcua/province"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/http/session"
	"github.com/motcua/motcua/projections"
)

const benchReadsUsage = "motcua bench reads (--data DIR | --store URL) [--calls 5] [--lookup-duration 3s] [--receipts 160] [--catch-up-only] [--flush-interval 30s] [--public-budget shared|node] [--public-budget-sync 100ms]"

// runBenchReads times the officials' screens and the public lookup on a store written by `motcua
// bench generate`, through the real router of an in-process server whose read models have caught
// up first; it prints markdown tables for docs/benchmarks.md.
func runBenchReads(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench reads", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, storeURLUsage, "data directory: the store (SQLite), the token key and the generated catalog.json")
	domainFiles := addDomainFlags(fs)
	calls := fs.Int("calls", 5, "calls per screen: the table shows their median")
	lookupFor := fs.Duration("lookup-duration", 3*time.Second, "measured time of each public-lookup run (each client count, each handler)")
	receipts := fs.Int("receipts", 160, "receipts 8 officials post at once (they add dossiers to the store)")
	catchUpOnly := fs.Bool("catch-up-only", false, "stop after the read models' catch-up: its rate and the process's CPU seconds per million events")
	floorOnly := fs.Bool("floor-only", false, "only read the whole log through the store, as a catch-up must (the floor its rate is stated against), and print what that cost; the read models are left as they are")
	flushEvery := fs.Duration("flush-interval", engine.DefaultFlushInterval, "longest the catch-up folds a read model without writing its rows and checkpoint")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the read models' catch-up to this file")
	heapProfile := fs.String("heapprofile", "", "write the heap profile of the catch-up's largest live heap to this file (checked every second)")
	lookupProfile := fs.String("lookup-cpuprofile", "", "write a CPU profile of the public-lookup runs (both handlers) to this file")
	var budget mhttp.Limits
	addPublicBudgetFlags(fs, &budget)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *calls <= 0 || *lookupFor <= 0 || *receipts < 0 || *flushEvery <= 0 {
		return fmt.Errorf("usage: %s", benchReadsUsage)
	}
	if domainFiles.catalog == "" {
		domainFiles.catalog = filepath.Join(storage.dataDir, catalogFile)
		if !fileExists(domainFiles.catalog) {
			return fmt.Errorf("%s: no generated catalog; bench reads measures a store written by `motcua bench generate` (or give --catalog)", domainFiles.catalog)
		}
	}
	rules, err := domainFiles.load()
	if err != nil {
		return err
	}
	if _, ok := rules.catalog.Agency(province.CentreCode); !ok {
		return fmt.Errorf("the catalog has no Public Service Centre %s: bench reads needs the catalog `motcua bench generate` wrote", province.CentreCode)
	}
	deployment, err := openDeployment(ctx, storage, openOptions{migrateStore: true, migrateReadModels: true, personalData: true})
	if err != nil {
		return err
	}
	defer deployment.Close()
	deployment.calendar = rules.calendar
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	app := commands.New(deployment.events.Sealed, rules.catalog, rules.calendar)
	app.Rules, app.Logger = rules.rules, quiet
	app.Signers = newFileAgencyKeys(filepath.Join(storage.dataDir, "agency-keys"), quiet)

	total, err := engine.CountEvents(ctx, deployment.Store, eventstore.Start, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s store, %d events\n\n", deployment.Kind, total)
	if *floorOnly {
		floor, err := readWholeLog(ctx, deployment.events.Sealed)
		if err != nil {
			return err
		}
		printFloor(stdout, floor)
		return nil
	}

	// The read models catch up as `motcua serve` makes them at its start: that is a measurement too.
	// Their warnings go to stderr: a fold that fails and falls back to applying a page at a time
	// changes what the figures mean (it did unseen in session 15's 1 M catch-up on PostgreSQL).
	warnings := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	feeder, metrics, err := startProjections(ctx, deployment, "", warnings)
	if err != nil {
		return err
	}
	defer feeder.Transport.Close()
	feeder.FlushInterval = *flushEvery
	behind, err := slowestLag(ctx, deployment, false)
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	stopHeapProfile := startPeakHeapProfile(*heapProfile)
	began, cpuBefore := time.Now(), processCPU()
	runCtx, stopFeeding := context.WithCancel(ctx)
	fed := make(chan error, 1)
	go func() { fed <- feeder.Run(runCtx) }()
	defer func() { stopFeeding(); <-fed }()
	if err := waitCaughtUp(ctx, deployment, fed, stderr); err != nil {
		return err
	}
	caughtUp, cpu := time.Since(began), processCPU()-cpuBefore
	stopProfile()
	if err := stopHeapProfile(); err != nil {
		return err
	}
	if behind > 0 {
		fmt.Fprintf(stdout, "Read models caught up in %s: %d events, %.0f events/s.\n\n", caughtUp.Round(time.Millisecond), behind, float64(behind)/caughtUp.Seconds())
	}
	if *catchUpOnly {
		// CPU seconds compare trees on a shared machine, where the wall-clock rate follows the load.
		if behind > 0 {
			fmt.Fprintf(stdout, "CPU (user + system, the whole process): %.1f s, %.1f s per million events.\n", cpu.Seconds(), cpu.Seconds()*1e6/float64(behind))
			printBulkStages(stdout, metrics, caughtUp)
			// The floor any catch-up pays, measured in the same run: targets are stated against it.
			floor, err := readWholeLog(ctx, deployment.events.Sealed)
			if err != nil {
				return err
			}
			catchUpRate := float64(behind) / caughtUp.Seconds()
			fmt.Fprintln(stdout)
			printFloor(stdout, floor)
			fmt.Fprintf(stdout, "Catch-up against that floor: %.2f of the reading rate, %.2f of reading and decoding; %.1f× its CPU per event.\n",
				catchUpRate/floor.readRate(), catchUpRate/floor.rate(), (cpu.Seconds()/float64(behind))/(floor.cpu.Seconds()/float64(max(floor.events, 1))))
		}
		return nil
	}

	key, err := loadOrCreateTokenKey(storage.dataDir)
	if err != nil {
		return err
	}
	// The pages open a server-side session from an API token, as an official signing in with one.
	sessions, err := session.New(deployment.ReadDB, deployment.Dialect(), session.DefaultTimeouts)
	if err != nil {
		return err
	}
	if err := sessions.Migrate(ctx); err != nil {
		return err
	}
	officialSignIn, err := mhttp.NewOfficialSignIn(ctx, mhttp.OfficialSignInConfig{Sessions: sessions, Tokens: true})
	if err != nil {
		return err
	}
	server := mhttp.NewServer(mhttp.Config{App: app, ReadDB: deployment.ReadDB, Logger: quiet, Officials: officialSignIn,
		Tokens:              mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey), MaxLifetime: defaultTokenMaxTTL},
		PublicStatusUpdates: feeder.Runner(projections.PublicStatusView{}.Name()), Ready: deployment.ready(),
		// The lookups come from one address, far faster than any citizen's.
		PublicRequestsPerMinute: math.MaxInt32, Limits: budget})
	base, stopServer, err := listen(server)
	if err != nil {
		return err
	}
	defer stopServer()
	bare, stopBare, err := listen(bareLookup(deployment.ReadDB))
	if err != nil {
		return err
	}
	defer stopBare()
	// Redirects are not followed: a page that sends the official to the sign-in page is a failure
	// to show (HTTP 303), not the sign-in page's time and size.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 5 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	officials := province.NewOfficials(rules.catalog)
	token := func(c commands.Caller) (string, error) { return mhttp.MintToken(key, c, time.Hour, time.Now()) }
	inspector, err := token(officials.Inspector())
	if err != nil {
		return err
	}
	desk, _ := officials.Pick(province.CentreCode, commands.RoleReception, 0)
	reception, err := token(desk)
	if err != nil {
		return err
	}
	sample, err := sampleDossier(ctx, app)
	if err != nil {
		return err
	}

	today := time.Now().In(domain.VietnamTime)
	yearAgo := today.AddDate(-1, 0, 1).Format(time.DateOnly)
	year := "?from=" + yearAgo + "&to=" + today.Format(time.DateOnly)
	screens := []screen{
		{"late dashboard `GET /api/v1/dashboards/late`", "/api/v1/dashboards/late", inspector, false},
		{"late dashboard, one year", "/api/v1/dashboards/late" + year, inspector, false},
		{"II.06a report, one year, all agencies `GET /api/v1/reports/resolution`", "/api/v1/reports/resolution" + year, inspector, false},
		{"satisfaction statistics, default period `GET /api/v1/statistics/satisfaction`", "/api/v1/statistics/satisfaction", inspector, false},
		{"satisfaction statistics, one year", "/api/v1/statistics/satisfaction" + year, inspector, false},
		{"work queue page, reception (`GET /can-bo`)", "/can-bo", reception, true},
		{"work queue page, inspector, all agencies", "/can-bo", inspector, true},
		{"dossier `GET /api/v1/dossiers/{ref}`", "/api/v1/dossiers/" + sample.ID, inspector, false},
		{"events `GET /api/v1/dossiers/{ref}/events`", "/api/v1/dossiers/" + sample.ID + "/events", inspector, false},
		{"control sheet `GET /api/v1/dossiers/{ref}/control-sheet`", "/api/v1/dossiers/" + sample.ID + "/control-sheet", inspector, false},
	}
	for i, sc := range screens {
		if sc.page {
			if screens[i].token, err = pageSession(ctx, client, base, sc.token); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "| officials' screen (p50 of %d calls) | time | response |\n|---|---|---|\n", *calls)
	for _, sc := range screens {
		p50, size, status, err := sc.time(ctx, client, base, *calls)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		note := ""
		if status != http.StatusOK {
			note = fmt.Sprintf(" (HTTP %d)", status)
		}
		fmt.Fprintf(stdout, "| %s | %s | %s%s |\n", sc.name, formatDuration(p50), formatBytes(size), note)
	}

	fmt.Fprintf(stdout, "\nPublic lookup of one dossier (`GET /api/v1/public/dossiers/{code}`) against a bare handler reading the same public_status row from the same database, %s per run, alternated:\n\n", *lookupFor)
	fmt.Fprintln(stdout, "| clients | motcua rps | p50 | p99 | bare rps | p50 | p99 |\n|---|---|---|---|---|---|---|")
	stopLookupProfile, err := startCPUProfile(*lookupProfile)
	if err != nil {
		return err
	}
	for _, clients := range []int{1, 8, 32} {
		bareRun, err := hammer(ctx, client, bare+"/"+url.PathEscape(string(sample.Code)), clients, *lookupFor)
		if err != nil {
			return fmt.Errorf("bare lookup: %w", err)
		}
		real, err := hammer(ctx, client, base+"/api/v1/public/dossiers/"+url.PathEscape(string(sample.Code)), clients, *lookupFor)
		if err != nil {
			return fmt.Errorf("public lookup: %w", err)
		}
		fmt.Fprintf(stdout, "| %d | %.0f | %s | %s | %.0f | %s | %s |\n", clients, real.rps, formatDuration(real.p50), formatDuration(real.p99),
			bareRun.rps, formatDuration(bareRun.p50), formatDuration(bareRun.p99))
	}
	stopLookupProfile()

	if *receipts > 0 {
		run, err := receiveConcurrently(ctx, client, base, rules.catalog, officials, token, *receipts)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n| receipt `POST /api/v1/dossiers`, 8 officials, %d receipts | p50 %s, p99 %s |\n|---|---|\n", *receipts, formatDuration(run.p50), formatDuration(run.p99))
	}
	return nil
}

// slowestLag is how many events the read model furthest behind has still to apply: counted by the
// store (eventstore.Counter) from the earliest checkpoint, or with onlyWhether, 0 or 1 (whether every
// read model is caught up) from reading at most one event after each checkpoint.
func slowestLag(ctx context.Context, d *deployment, onlyWhether bool) (int, error) {
	var earliest eventstore.Position
	behind := 0
	for i, name := range projections.Names() {
		lag, err := engine.MeasureLag(ctx, d.Store, d.ReadDB, name, 1)
		if err != nil {
			return 0, err
		}
		if i == 0 || lag.Position.Less(earliest) {
			earliest = lag.Position
		}
		behind = max(behind, lag.Events)
	}
	if onlyWhether || behind == 0 {
		return behind, nil
	}
	return engine.CountEvents(ctx, d.Store, earliest, 0)
}

// progressEvery is how often waitCaughtUp counts and reports what is left to catch up. SQLite
// counted a range of the log by reading every page of it — 32 % of a 40 s profile of a 10 M-event
// catch-up counting once a minute (perf, session 9) — and since session 10 takes it from the last
// sequence number; PostgreSQL still counts the rows.
const progressEvery = 10 * time.Minute

// waitCaughtUp waits until every read model has applied the whole log, reporting the lag every minute.
// It polls only whether an event follows each read model's checkpoint: counting a large log on
// every poll would slow the catch-up it measures.
func waitCaughtUp(ctx context.Context, d *deployment, fed <-chan error, progress io.Writer) error {
	began := time.Now()
	lastReport := began
	for {
		left, err := slowestLag(ctx, d, true)
		if err != nil || left == 0 {
			return err
		}
		// Counting what is left reads the rest of the log: on a 10 M-event store each count took
		// a core for seconds, and counting every 5 s was 37 % of the catch-up's CPU (perf).
		if time.Since(lastReport) >= progressEvery {
			lastReport = time.Now()
			if left, err = slowestLag(ctx, d, false); err != nil {
				return err
			}
			fmt.Fprintf(progress, "catching up: the slowest read model is %d events behind\n", left)
		}
		select {
		case err := <-fed:
			return fmt.Errorf("the read models stopped catching up: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		// Each poll asks every read model's checkpoint and opens the log after it: 6.6 % of a
		// 10 M-event catch-up's CPU when asked five times a second. A poll every 1/50 of the time
		// so far keeps the measured duration within 2 %.
		case <-time.After(min(max(time.Since(began)/50, 200*time.Millisecond), 5*time.Second)):
		}
	}
}

// listen serves h on a free local port until stop.
func listen(h http.Handler) (base string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

// bareLookup answers GET /{code} with the dossier's public_status row as JSON, whatever its
// columns: the least a lookup of that row over HTTP can cost, to compare the real one with.
func bareLookup(db *sql.DB) http.Handler {
	r := chi.NewRouter()
	r.Get("/{code}", func(w http.ResponseWriter, r *http.Request) {
		rows, err := db.QueryContext(r.Context(), `SELECT * FROM public_status WHERE code = $1`, chi.URLParam(r, "code"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		columns, _ := rows.Columns()
		if !rows.Next() {
			http.NotFound(w, r)
			return
		}
		values := make([]any, len(columns))
		pointers := make([]any, len(columns))
		for i := range values {
			pointers[i] = &values[i]
		}
		if err := rows.Scan(pointers...); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		row := make(map[string]any, len(columns))
		for i, c := range columns {
			if b, ok := values[i].([]byte); ok {
				values[i] = string(b)
			}
			row[c] = values[i]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(row)
	})
	return r
}

// sampleDossier is a dossier with a full history: the one with the most events among the first
// thousands of the log (filed early, so finished).
func sampleDossier(ctx context.Context, app *commands.App) (domain.Dossier, error) {
	events, err := app.Store.ReadAll(ctx, eventstore.Start, 5000)
	if err != nil {
		return domain.Dossier{}, err
	}
	counts := map[string]int{}
	best := ""
	for _, e := range events {
		if !strings.HasPrefix(e.Stream, "dossier-") {
			continue
		}
		counts[e.Stream]++
		if counts[e.Stream] > counts[best] {
			best = e.Stream
		}
	}
	if best == "" {
		return domain.Dossier{}, errors.New("the store holds no dossier: generate one with `motcua bench generate`")
	}
	d, _, err := app.Load(ctx, strings.TrimPrefix(best, "dossier-"))
	return d, err
}

// screen is one officials' screen or API call, timed with the official's token (a page with the
// session the token opened, as after signing in).
type screen struct {
	name, path, token string // a page's token is replaced by the session it opens (pageSession)
	page              bool
}

// pageSession signs in to the pages with an API token, as an official may, and returns the
// session's cookie: the pages take a server-side session's random token, never a bearer token.
func pageSession(ctx context.Context, client *http.Client, base, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/can-bo/dang-nhap", strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "motcua_session" && c.Value != "" && res.StatusCode == http.StatusSeeOther {
			return c.Value, nil
		}
	}
	return "", fmt.Errorf("signing in to the pages with a token answered %d and no session", res.StatusCode)
}

func (sc screen) request(ctx context.Context, base string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+sc.path, nil)
	if err != nil {
		return nil, err
	}
	if sc.page {
		req.AddCookie(&http.Cookie{Name: "motcua_session", Value: sc.token})
	} else {
		req.Header.Set("Authorization", "Bearer "+sc.token)
	}
	return req, nil
}

// time calls the screen n times in a row and returns the median time, the response's size and status.
func (sc screen) time(ctx context.Context, client *http.Client, base string, n int) (p50 time.Duration, size int64, status int, err error) {
	durations := make([]time.Duration, 0, n)
	for range n {
		req, err := sc.request(ctx, base)
		if err != nil {
			return 0, 0, 0, err
		}
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, 0, 0, err
		}
		size, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		durations = append(durations, time.Since(start))
		if err != nil {
			return 0, 0, 0, err
		}
		status = res.StatusCode
	}
	return percentile(durations, 0.5), size, status, nil
}

// loadRun is what concurrent clients achieved.
type loadRun struct {
	rps      float64
	p50, p99 time.Duration
}

// hammer has clients GET target back to back for d.
func hammer(ctx context.Context, client *http.Client, target string, clients int, d time.Duration) (loadRun, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				start := time.Now()
				res, err := client.Get(target)
				if err != nil {
					break
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					mu.Lock()
					firstErr = cmpErr(firstErr, fmt.Errorf("%s: HTTP %d", target, res.StatusCode))
					mu.Unlock()
					break
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	began := time.Now()
	wg.Wait()
	if firstErr != nil {
		return loadRun{}, firstErr
	}
	return loadRun{rps: float64(len(all)) / time.Since(began).Seconds(), p50: percentile(all, 0.5), p99: percentile(all, 0.99)}, nil
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// receiveConcurrently has 8 reception officials (the Centre's and the wards') post n receipts
// between them, each of a procedure their desk receives.
func receiveConcurrently(ctx context.Context, client *http.Client, base string, catalog *domain.Catalog, officials *province.Officials,
	token func(commands.Caller) (string, error), n int) (loadRun, error) {
	type desk struct {
		token      string
		procedures []domain.Procedure
	}
	var wards []string
	for _, p := range catalog.Procedures {
		if unit := province.ReceivingUnit(catalog, p); unit != province.CentreCode && !slices.Contains(wards, unit) {
			wards = append(wards, unit)
		}
	}
	if len(wards) == 0 {
		return loadRun{}, errors.New("the catalog has no ward desk")
	}
	var desks []desk
	for k := 0; len(desks) < 8; k++ {
		agency := province.CentreCode // for every department's procedures
		if k%2 == 1 {
			agency = wards[(k/2)%len(wards)] // a ward, for its own
		}
		official, ok := officials.Pick(agency, commands.RoleReception, k)
		if !ok {
			return loadRun{}, fmt.Errorf("agency %s has no reception official", agency)
		}
		t, err := token(official)
		if err != nil {
			return loadRun{}, err
		}
		d := desk{token: t}
		for _, p := range catalog.Procedures {
			if province.ReceivingUnit(catalog, p) == agency {
				d.procedures = append(d.procedures, p)
			}
		}
		if len(d.procedures) == 0 {
			return loadRun{}, fmt.Errorf("agency %s receives no procedure", agency)
		}
		desks = append(desks, d)
	}
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	began := time.Now()
	for i, d := range desks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := i; k < n; k += len(desks) {
				p := d.procedures[k%len(d.procedures)]
				body, _ := json.Marshal(commands.ReceiveInput{ProcedureCode: p.Code, Channel: domain.ChannelDirect,
					Applicant:  domain.Applicant{Type: domain.ApplicantCitizen, Name: "Người thử Nghiệm", IDNumber: fmt.Sprintf("0389%08d", k)},
					Components: []domain.Component{{Name: p.Components[0].Name, Copies: 1}}})
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/dossiers", bytes.NewReader(body))
				if err != nil {
					return
				}
				req.Header.Set("Authorization", "Bearer "+d.token)
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusCreated {
						err = fmt.Errorf("receipt: HTTP %d", res.StatusCode)
					}
				}
				mu.Lock()
				if err != nil {
					firstErr = cmpErr(firstErr, err)
				} else {
					all = append(all, time.Since(start))
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return loadRun{}, firstErr
	}
	return loadRun{rps: float64(len(all)) / time.Since(began).Seconds(), p50: percentile(all, 0.5), p99: percentile(all, 0.99)}, nil
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// processCPU is the CPU time (user and system) the process has used so far.
func processCPU() time.Duration {
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// bulkStageLine is one sample of motcua_projection_bulk_seconds_total in /metrics' text.
var bulkStageLine = regexp.MustCompile(`^motcua_projection_bulk_seconds_total\{projection="([^"]+)",stage="([^"]+)"\} (\S+)$`)

// printBulkStages prints, from the node's /metrics, the seconds each read model's goroutine spent
// in each stage of the bulk catch-up: what the catch-up waited for (SQLite's write gate, or the
// log's reader for the time outside every stage).
func printBulkStages(stdout io.Writer, metrics http.Handler, took time.Duration) {
	rec := httptest.NewRecorder()
	metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	stages := []string{"fold", "prepare", "wait", "write", "apply"}
	seconds := map[string]map[string]float64{}
	var names []string
	for line := range strings.Lines(rec.Body.String()) {
		m := bulkStageLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		if seconds[m[1]] == nil {
			seconds[m[1]] = map[string]float64{}
			names = append(names, m[1])
		}
		seconds[m[1]][m[2]] = v
	}
	if len(names) == 0 {
		return
	}
	fmt.Fprintf(stdout, "\nSeconds of the catch-up's %.1f s each read model's goroutine spent in each stage; the rest it waited for pages:\n", took.Seconds())
	fmt.Fprintf(stdout, "\n| read model | %s | busy | waited for pages |\n|---|%s---:|---:|\n", strings.Join(stages, " | "), strings.Repeat("---:|", len(stages)))
	for _, name := range names {
		busy := 0.0
		fmt.Fprintf(stdout, "| %s |", name)
		for _, stage := range stages {
			busy += seconds[name][stage]
			fmt.Fprintf(stdout, " %.1f |", seconds[name][stage])
		}
		fmt.Fprintf(stdout, " %.1f | %.1f |\n", busy, max(0, took.Seconds()-busy))
	}
}

func printFloor(stdout io.Writer, floor logFloor) {
	fmt.Fprintf(stdout, "Reading the whole log through the store alone (the store the catch-up reads, personal data unsealed, pages of %d): %d events in %s, %.0f events/s read, %.0f events/s read and decoded; CPU %.1f s per million events.\n",
		engine.DefaultRebuildBatch, floor.events, floor.took.Round(time.Millisecond), floor.readRate(), floor.rate(), floor.cpu.Seconds()*1e6/float64(max(floor.events, 1)))
}

// logFloor is one pass over the whole log through the store: what reading it costs, with and
// without decoding the dossiers' events as the catch-up does once for every read model.
type logFloor struct {
	events  int
	took    time.Duration // reading and decoding
	reading time.Duration // of which reading (ReadAll)
	cpu     time.Duration // the process's, for the pass
}

func (f logFloor) rate() float64     { return float64(f.events) / max(f.took.Seconds(), 1e-9) }
func (f logFloor) readRate() float64 { return float64(f.events) / max(f.reading.Seconds(), 1e-9) }

// readWholeLog reads the log from its start in the catch-up's pages, decoding each page's dossier
// events as the catch-up's reader does, on one goroutine.
func readWholeLog(ctx context.Context, store eventstore.Store) (logFloor, error) {
	var floor logFloor
	began, cpuBefore := time.Now(), processCPU()
	from := eventstore.Start
	for {
		readBegan := time.Now()
		events, err := store.ReadAll(ctx, from, engine.DefaultRebuildBatch)
		floor.reading += time.Since(readBegan)
		if err != nil {
			return floor, fmt.Errorf("read the log: %w", err)
		}
		for _, re := range events {
			if domain.DossierAggregate.Holds(re.Stream, re.Type) {
				if _, err := domain.DecodeEvent(re.Type, re.Data); err != nil {
					return floor, fmt.Errorf("event at %s: %w", re.Position, err)
				}
			}
		}
		floor.events += len(events)
		if len(events) < engine.DefaultRebuildBatch {
			break
		}
		from = events[len(events)-1].Position
	}
	floor.took, floor.cpu = time.Since(began), processCPU()-cpuBefore
	return floor, nil
}
