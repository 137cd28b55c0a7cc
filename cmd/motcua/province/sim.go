package province

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// Generator drives the use cases of App through a province's history.
type Generator struct {
	App       *commands.App
	Catalog   *Catalog
	Officials *Officials
	// Store and Recall, when set, are the generation's layers (store.go): finished dossiers' streams
	// leave their memory, and a failed background write stops the generation.
	Store  *WriteBehind
	Recall *Recall
}

// forget drops a stream that will not change any more from the layers' memory.
func (g *Generator) forget(stream string) {
	if g.Store != nil {
		g.Store.Forget(stream)
	}
	if g.Recall != nil {
		g.Recall.Forget(stream)
	}
}

// Config says how much history to generate.
type Config struct {
	Dossiers int
	Seed     uint64
	// End is the present: the history covers the Days before it, and stories not finished by then
	// stay open.
	End  time.Time
	Days int
	// Progress, when set, is called about every ProgressEvery of real time, and once at the end.
	Progress      func(Stats)
	ProgressEvery time.Duration
}

// Stats count what the generation did; docs/benchmarks.md gives the intended shares.
type Stats struct {
	Dossiers    int // dossiers filed (received or submitted)
	Online      int
	Postal      int
	Refused     int // online submissions refused at reception
	Withdrawn   int
	Supplements int // supplement requests
	Suspended   int
	Rejected    int // appraised for rejection and rejected
	Overran     int // stories with a step that overran its allotted time
	Apologies   int
	Parallel    int // dossiers whose workflow consulted another agency
	Paid        int
	Returned    int
	Rated       int
	// Open is the number of stories the present interrupted: dossiers still in progress at End.
	Open    int
	Actions int // use cases run
	// Refusals counts actions the rules refused (a conflict, an invalid request): an apology
	// decided too close to the appointment date goes without, any other refusal ends its story.
	// A few apologies are expected; other refusals mean a bug.
	Refusals int
	// Clock is the simulated present of the last action.
	Clock time.Time
}

// arrival is one dossier's filing: when, by which channel, for which procedure.
type arrival struct {
	at        time.Time
	index     int
	procedure int
	channel   domain.Channel
}

// Run generates the history. The events of all dossiers interleave as in a province: each action
// runs at its own simulated time, the earliest first, whatever dossier it belongs to.
func (g *Generator) Run(ctx context.Context, cfg Config) (Stats, error) {
	if cfg.Dossiers <= 0 || cfg.Days <= 0 {
		return Stats{}, errors.New("province: dossiers and days must be positive")
	}
	s := &sim{g: g, cfg: cfg, ctx: ctx, msgs: make(chan msg), quit: make(chan struct{})}
	defer close(s.quit)
	prevNow := g.App.Now
	g.App.Now = func() time.Time { return s.clock }
	defer func() { g.App.Now = prevNow }()
	s.cumulative = make([]float64, len(g.Catalog.Weights))
	total := 0.0
	for i, w := range g.Catalog.Weights {
		total += w
		s.cumulative[i] = total
	}
	arrivals := s.arrivals()
	lastProgress := time.Now()
	lastDay := ""
	steps := 0
	for next := 0; next < len(arrivals) || s.queue.Len() > 0; {
		var st *story
		if next < len(arrivals) && (s.queue.Len() == 0 || !s.queue[0].at.Before(arrivals[next].at)) {
			a := arrivals[next]
			next++
			s.clock = a.at
			st = s.newStory(a)
			s.stats.Dossiers++
			go st.run()
		} else {
			st = heap.Pop(&s.queue).(*story)
			s.clock = st.at
			st.wake <- struct{}{}
		}
		if day := domain.DayKey(s.clock); day != lastDay {
			s.forgetCodes(lastDay)
			lastDay = day
		}
		if err := s.drive(st); err != nil {
			return s.stats, err
		}
		if steps++; steps%256 == 0 && cfg.Progress != nil && time.Since(lastProgress) >= cfg.ProgressEvery {
			lastProgress = time.Now()
			s.stats.Clock = s.clock
			cfg.Progress(s.stats)
		}
	}
	s.stats.Clock = s.clock
	if cfg.Progress != nil {
		cfg.Progress(s.stats)
	}
	return s.stats, nil
}

type sim struct {
	g          *Generator
	cfg        Config
	ctx        context.Context
	clock      time.Time
	queue      waitQueue
	seq        uint64
	msgs       chan msg
	quit       chan struct{}
	stats      Stats
	cumulative []float64
}

// msg is what the running story asks of the scheduler: run an action, wait until a time, or stop.
type msg struct {
	run   func()
	until time.Time
	done  bool
}

// drive serves the running story until it waits or ends.
func (s *sim) drive(st *story) error {
	for {
		m := <-s.msgs
		switch {
		case m.run != nil:
			m.run()
			if st.fatal != nil {
				return st.fatal
			}
			if s.g.Store != nil {
				if err := s.g.Store.Err(); err != nil {
					return err
				}
			}
			st.wake <- struct{}{}
		case m.done:
			if st.id != "" {
				s.g.forget(commands.StreamName(st.id))
			}
			return nil
		default:
			st.at = m.until
			s.seq++
			st.seq = s.seq
			heap.Push(&s.queue, st)
			return nil
		}
	}
}

// forgetCodes drops the dossier-code streams of a day gone by from the write-behind memory.
func (s *sim) forgetCodes(day string) {
	if day == "" {
		return
	}
	for _, a := range s.g.Catalog.Agencies {
		s.g.forget("dossiercodes-" + a.Code + "-" + day)
	}
}

// arrivals spreads the dossiers over the period: counter filings in the working hours of working
// days (a little more on Mondays), online submissions at any hour of any day.
func (s *sim) arrivals() []arrival {
	rng := rand.New(rand.NewPCG(s.cfg.Seed, 0xa771))
	cal := s.g.App.Calendar
	end := s.cfg.End
	start := end.AddDate(0, 0, -s.cfg.Days)
	out := make([]arrival, s.cfg.Dossiers)
	dayLength := cal.WorkingDayLength()
	span := end.Sub(start)
	for i := range out {
		p := sort.SearchFloat64s(s.cumulative, rng.Float64()*s.cumulative[len(s.cumulative)-1])
		p = min(p, len(s.cumulative)-1)
		procedure := s.g.Catalog.Procedures[p]
		a := arrival{index: i, procedure: p, channel: domain.ChannelDirect}
		onlineCapable := procedure.OnlineLevel == "full" || procedure.OnlineLevel == "partial"
		switch r := rng.Float64(); {
		case onlineCapable && r < 0.52:
			a.channel = domain.ChannelOnline
		case r > 0.95:
			a.channel = domain.ChannelPostal
		}
		if a.channel == domain.ChannelOnline {
			a.at = start.Add(time.Duration(rng.Int64N(int64(span))))
		} else {
			for {
				day := start.Add(time.Duration(rng.IntN(s.cfg.Days)) * 24 * time.Hour)
				if !cal.IsWorkingDay(day) || (day.In(domain.VietnamTime).Weekday() != time.Monday && rng.IntN(10) == 0) {
					continue
				}
				open := cal.NextWorkingMoment(time.Date(day.In(domain.VietnamTime).Year(), day.In(domain.VietnamTime).Month(), day.In(domain.VietnamTime).Day(), 0, 0, 0, 0, domain.VietnamTime))
				a.at = cal.AddWorkingTime(open, time.Duration(rng.Int64N(int64(dayLength))))
				break
			}
		}
		if a.at.After(end) {
			a.at = end
		}
		a.at = a.at.Truncate(time.Second)
		out[i] = a
	}
	slices.SortFunc(out, func(x, y arrival) int { return x.at.Compare(y.at) })
	return out
}

func (s *sim) newStory(a arrival) *story {
	return &story{s: s, arrival: a, wake: make(chan struct{}), rng: rand.New(rand.NewPCG(s.cfg.Seed^0x5eed, uint64(a.index)))}
}

// waitQueue orders the waiting stories by their next action's time, then by when they began to wait.
type waitQueue []*story

func (q waitQueue) Len() int { return len(q) }
func (q waitQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q waitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *waitQueue) Push(x any)   { *q = append(*q, x.(*story)) }
func (q *waitQueue) Pop() any {
	old := *q
	st := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return st
}

// story is one dossier's life, run on its own goroutine but only while the scheduler serves it:
// it asks the scheduler to run each action and to wake it at its next action's time.
type story struct {
	s       *sim
	arrival arrival
	rng     *rand.Rand
	wake    chan struct{}
	at      time.Time
	seq     uint64
	id      string
	// fatal is an error no story expects: the generation stops.
	fatal error
}

func (st *story) sleep() {
	select {
	case <-st.wake:
	case <-st.s.quit:
		runtime.Goexit()
	}
}

func (st *story) send(m msg) {
	select {
	case st.s.msgs <- m:
	case <-st.s.quit:
		runtime.Goexit()
	}
}

// until waits until t; false when t is past the present, and the story ends there.
func (st *story) until(t time.Time) bool {
	if t.After(st.s.cfg.End) {
		st.s.stats.Open++
		return false
	}
	if t.Before(st.s.clock) {
		t = st.s.clock
	}
	st.send(msg{until: t})
	st.sleep()
	return true
}

// work waits hours of working time.
func (st *story) work(hours float64) bool {
	return st.until(st.s.g.App.Calendar.AddWorkingTime(st.s.clock, time.Duration(hours*float64(time.Hour))))
}

// do runs f as the scheduler's current action.
func (st *story) do(f func() error) error {
	var err error
	st.send(msg{run: func() {
		err = f()
		st.s.stats.Actions++
	}})
	st.sleep()
	return err
}

// act runs input on the dossier for caller. A refusal by the rules (a conflict or an invalid
// request) is returned; anything else stops the generation.
func (st *story) act(caller commands.Caller, input commands.Input) error {
	return st.do(func() error {
		_, err := st.s.g.App.Execute(st.s.ctx, caller, st.id, nil, input)
		return st.check(err)
	})
}

func (st *story) check(err error) error {
	if err == nil {
		return nil
	}
	switch domain.ErrorCodeOf(err) {
	case domain.ECONFLICT, domain.EINVALID:
		st.s.stats.Refusals++
		return err
	}
	st.fatal = fmt.Errorf("dossier %s: %w", st.id, err)
	return err
}

func (st *story) run() {
	defer func() {
		// Not send: a story that the end of the generation stops (runtime.Goexit) ends here.
		select {
		case st.s.msgs <- msg{done: true}:
		case <-st.s.quit:
		}
	}()
	st.live()
}
