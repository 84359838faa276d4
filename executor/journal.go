package executor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dubline/dubline/internal/fsutil"
)

// Journal. One append-only file of JSON lines per run name,
// <StateDir>/<name>.journal.jsonl, one record per state change of a job:
// planned (with fingerprint and estimate), submitting (taskUUID, written and
// fsynced before the request leaves), accepted, succeeded (outputs, cost),
// failed (class, code, message), inflight (the poll deadline passed or the
// task's state is unknown), undelivered (generated and billed, but the
// output could not be stored), plus submit-error (a submit error that
// leaves the task's fate unknown: the state stays submitting) and forgotten
// (ForgetInflight: the job is pending again). JSON lines were chosen over a database
// because appends are atomic enough, a crash leaves at most a torn tail, and
// a human can read it. Concurrent appends are group-committed: one writer
// goroutine takes every record queued while the previous fsync ran, writes
// them with one write+fsync, then wakes each waiting writer. A writer only
// proceeds (e.g. sends its request) once its record is durable.

// Torn tail. A crash can leave a partial last line. It was never
// acknowledged, so the action it announced never happened (a submitting
// record that is torn means the request never left). Unparseable bytes
// after the last good line are therefore dropped: the file is truncated to
// the last good line, a slog warning is logged and the report lists it.
// Unparseable lines followed by good lines are not a crash artefact; Run
// refuses to guess (money is at stake) and returns an error naming the line.
// An flock on the journal stops two runs of the same name at once (unix).

// maxBatch bounds the bytes of one group commit.
const maxBatch = 1 << 20

// JournalPath returns the journal file of a run name in stateDir.
func JournalPath(stateDir, runName string) string {
	return filepath.Join(stateDir, safeName(runName)+".journal.jsonl")
}

// safeName keeps a run name usable as a file name.
func safeName(s string) string {
	if s == "" {
		return "run"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// journalData is the parsed content of a journal.
type journalData struct {
	states   map[string]*jobState
	money    ledger
	order    []string // job ids in order of first appearance
	warnings []string
	good     int64 // bytes up to the end of the last good line
	size     int64
}

// parseJournal parses journal bytes. Unparseable bytes after the last good
// line are a torn tail (reported in warnings, excluded from good);
// unparseable lines before a good one are an error.
func parseJournal(name string, b []byte) (*journalData, error) {
	d := &journalData{states: map[string]*jobState{}, size: int64(len(b))}
	var off int64
	badLine, badAt := 0, int64(-1)
	for lineNo := 1; len(b) > 0; lineNo++ {
		line, rest, complete := bytes.Cut(b, []byte("\n"))
		n := int64(len(line))
		if complete {
			n++
		}
		var r record
		trimmed := bytes.TrimSpace(line)
		ok := complete && len(trimmed) > 0 && json.Unmarshal(trimmed, &r) == nil && r.Ev != ""
		switch {
		case ok && badAt >= 0:
			return nil, fmt.Errorf("journal %s: line %d is corrupt but later lines are not; "+
				"refusing to guess which tasks were sent (remove or repair the line)", name, badLine)
		case ok:
			d.add(r)
			d.good = off + n
		case len(trimmed) == 0 && complete && badAt < 0:
			d.good = off + n // blank line
		case badAt < 0:
			badLine, badAt = lineNo, off
		}
		off += n
		b = rest
	}
	if badAt >= 0 {
		d.warnings = append(d.warnings, fmt.Sprintf(
			"journal %s: ignored a torn last record at line %d (%d bytes): it was never acknowledged, so its action did not happen",
			name, badLine, d.size-d.good))
	}
	return d, nil
}

func (d *journalData) add(r record) {
	d.money.add(r)
	if r.Job == "" {
		return
	}
	s := d.states[r.Job]
	if s == nil {
		s = &jobState{ID: r.Job}
		d.states[r.Job] = s
		d.order = append(d.order, r.Job)
	}
	s.apply(r)
}

// readJournal reads and parses a journal without changing it; a missing
// file is an empty journal.
func readJournal(path string) (*journalData, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &journalData{states: map[string]*jobState{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	return parseJournal(path, b)
}

// journal appends records durably with group commit.
type journal struct {
	f    *os.File
	reqs chan appendReq
	done chan struct{}

	mu     sync.Mutex // guards closed and sends on reqs
	closed bool
	err    error              // sticky write error; only the writer goroutine touches it
	hook   func([]byte) error // tests: fail a write
}

type appendReq struct {
	buf  []byte
	done chan error
}

// openJournal opens (creating) the journal, locks it against other runs,
// parses it, truncates a torn tail and starts the writer.
func openJournal(path string, hook func([]byte) error) (*journal, *journalData, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("journal dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open journal: %w", err)
	}
	d, err := lockAndLoad(f, path, dir)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	j := &journal{f: f, reqs: make(chan appendReq, 256), done: make(chan struct{}), hook: hook}
	go j.loop()
	return j, d, nil
}

func lockAndLoad(f *os.File, path, dir string) (*journalData, error) {
	if err := lockFile(f); err != nil {
		return nil, fmt.Errorf("journal %s is in use by another run: %w", path, err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	d, err := parseJournal(path, b)
	if err != nil {
		return nil, err
	}
	if d.good < d.size {
		if err := f.Truncate(d.good); err != nil {
			return nil, fmt.Errorf("truncate torn journal tail: %w", err)
		}
	}
	if _, err := f.Seek(d.good, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync journal: %w", err)
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return d, nil
}

// loop is the single writer: it batches every request queued while the
// previous write+fsync ran into one write+fsync.
func (j *journal) loop() {
	defer close(j.done)
	var batch []appendReq
	var buf []byte
	for first := range j.reqs {
		batch, buf = append(batch[:0], first), append(buf[:0], first.buf...)
	drain:
		for len(buf) < maxBatch {
			select {
			case r, ok := <-j.reqs:
				if !ok {
					break drain
				}
				batch, buf = append(batch, r), append(buf, r.buf...)
			default:
				break drain
			}
		}
		err := j.writeSync(buf)
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (j *journal) writeSync(buf []byte) error {
	if j.err != nil {
		return j.err
	}
	var err error
	if j.hook != nil {
		err = j.hook(buf)
	}
	if err == nil {
		_, err = j.f.Write(buf)
	}
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		j.err = fmt.Errorf("journal write: %w", err)
	}
	return j.err
}

// append writes the records durably; it returns once they are fsynced.
// Records of one call land in one write.
func (j *journal) append(recs ...record) error {
	var buf []byte
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("journal encode: %w", err)
		}
		buf = append(append(buf, b...), '\n')
	}
	done := make(chan error, 1)
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return errors.New("journal closed")
	}
	// Sending under the lock keeps close from racing a send; the channel
	// is buffered and the writer never takes j.mu while blocked on it.
	j.reqs <- appendReq{buf: buf, done: done}
	j.mu.Unlock()
	return <-done
}

// close stops the writer after pending appends and closes the file.
func (j *journal) close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	close(j.reqs)
	j.mu.Unlock()
	<-j.done
	unlockFile(j.f)
	return j.f.Close()
}
