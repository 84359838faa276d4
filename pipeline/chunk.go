package pipeline

import (
	"bytes"
	"errors"
	"io"
	"runtime"

	"gopkg.in/yaml.v3"
)

// Large manifests are decoded in chunks. A 100,000-job manifest makes a
// ~280 MB yaml.Node tree; holding it and the decoded jobs at once would
// cost ~1.5x the memory of the tree alone. So when the top-level `jobs:`
// is a plain block sequence, a line scan cuts the file into the part
// before the jobs, the part after them, and runs of chunkJobs items, and
// each run is parsed and decoded on its own. Anything unusual (anchors
// shared across the cut, directives, a second document, a syntax error, an
// item count that does not match the scan) makes the fast path give up,
// and the whole file is parsed the ordinary way, so results and messages
// are always those of a whole-file parse. FuzzParse checks that both paths
// agree.

// chunkMinBytes is the size from which the chunked path is tried. A
// variable so tests can run small inputs through it.
var chunkMinBytes = 1 << 20

// chunkJobs is the number of jobs parsed at a time.
var chunkJobs = 1024

// chunk is a run of job items: data[off:end], starting at line `line`.
type chunk struct {
	off, end, line, count int
}

// jobsBlock is where the top-level block sequence under `jobs:` lies.
type jobsBlock struct {
	start, end int // byte range of the items
	endLine    int // line number of the first line after the items
	chunks     []chunk
	count      int
}

// scanLines calls fn for each line (without its newline) with its start
// offset and 1-based number; fn returns false to stop.
func scanLines(data []byte, fn func(line []byte, off, num int) bool) {
	off := 0
	for num := 1; off < len(data); num++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			end += off
			next = end + 1
		} else {
			end = len(data)
		}
		if !fn(bytes.TrimSuffix(data[off:end], []byte{'\r'}), off, num) {
			return
		}
		off = next
	}
}

// lineKind classifies one line for the scan.
func lineKind(l []byte) (indent int, blank, comment, tab bool) {
	for indent < len(l) && l[indent] == ' ' {
		indent++
	}
	rest := l[indent:]
	switch {
	case len(rest) == 0:
		return indent, true, false, false
	case rest[0] == '\t':
		return indent, false, false, true
	case rest[0] == '#':
		return indent, false, true, false
	}
	return indent, false, false, false
}

func isItem(rest []byte) bool {
	return len(rest) > 0 && rest[0] == '-' && (len(rest) == 1 || rest[1] == ' ')
}

func isJobsKey(l []byte) bool {
	rest, ok := bytes.CutPrefix(l, []byte("jobs:"))
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " ")
	return len(rest) == 0 || rest[0] == '#'
}

func isDocMarker(l []byte) bool {
	return bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("...")) || bytes.HasPrefix(l, []byte("%"))
}

// findJobsBlock scans data for a top-level `jobs:` followed by a block
// sequence, and cuts its items into chunks. ok is false when the file does
// not have that simple shape.
func findJobsBlock(data []byte) (b jobsBlock, ok bool) {
	const (
		before = iota
		afterKey
		inItems
		after
	)
	phase, indent, content, good := before, -1, false, true
	b.end, b.endLine = len(data), 0
	scanLines(data, func(l []byte, off, num int) bool {
		ind, blank, comment, tab := lineKind(l)
		if tab {
			good = false
			return false
		}
		if blank || comment {
			return true
		}
		if ind == 0 && isDocMarker(l) && (content || !bytes.HasPrefix(l, []byte("---"))) {
			good = false // directives and document markers: leave them to the full parse
			return false
		}
		content = true
		switch phase {
		case before:
			if ind == 0 && isJobsKey(l) {
				phase = afterKey
			}
		case afterKey:
			if !isItem(l[ind:]) {
				good = false
				return false
			}
			phase, indent, b.start = inItems, ind, off
			b.chunks = append(b.chunks, chunk{off: off, line: num, count: 1})
			b.count = 1
		case inItems:
			switch {
			case ind > indent:
			case ind == indent && isItem(l[ind:]):
				if c := &b.chunks[len(b.chunks)-1]; c.count == chunkJobs {
					c.end = off
					b.chunks = append(b.chunks, chunk{off: off, line: num})
				}
				b.chunks[len(b.chunks)-1].count++
				b.count++
			case ind == 0:
				if isJobsKey(l) {
					good = false // a second jobs key: let the full parse report it
					return false
				}
				phase, b.end, b.endLine = after, off, num
			default:
				good = false
				return false
			}
		case after:
			if ind == 0 && isJobsKey(l) {
				good = false // a second jobs key: let the full parse report it
				return false
			}
		}
		return true
	})
	if !good || phase < inItems {
		return b, false
	}
	b.chunks[len(b.chunks)-1].end = b.end
	return b, true
}

// errFallback means the chunked path met something it does not handle.
var errFallback = errors.New("fall back to a whole-file parse")

// parseChunked decodes data through findJobsBlock's cut. It returns
// errFallback when the whole-file path must be used instead.
func (st *state) parseChunked(file string, data []byte, dir string, b jobsBlock) (*Manifest, error) {
	head, err := parseOne(data[:b.start])
	if err != nil || head.Kind != yaml.MappingNode || head.Style&yaml.FlowStyle != 0 {
		return nil, errFallback
	}
	c := head.Content
	if len(c) < 2 || c[len(c)-2].Value != "jobs" || !isNull(c[len(c)-1]) {
		return nil, errFallback
	}
	if b.end < len(data) {
		tail, err := parseOne(data[b.end:])
		if err != nil || tail.Kind != yaml.MappingNode || tail.Style&yaml.FlowStyle != 0 {
			return nil, errFallback
		}
		shiftLines(tail, b.endLine-1)
		head.Content = append(head.Content, tail.Content...)
	}
	m := &Manifest{File: file, Dir: dir}
	d := &decoder{st: st, file: file, chunks: &b, data: data}
	d.manifest(head, m)
	if d.fallback {
		return nil, errFallback
	}
	return m, nil
}

// parseOne parses exactly one YAML document and returns its root.
func parseOne(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, errFallback
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, extra yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errFallback
	}
	if len(doc.Content) != 1 {
		return nil, errFallback
	}
	return doc.Content[0], nil
}

// shiftLines moves every node of a tree down by off lines. Walking Content
// only visits each node once (aliases point sideways through Alias).
func shiftLines(n *yaml.Node, off int) {
	n.Line += off
	for _, c := range n.Content {
		shiftLines(c, off)
	}
}

// chunkedJobs decodes the job chunks into m.Jobs. It sets d.fallback and
// stops when a chunk does not parse as exactly the items the scan counted.
func (d *decoder) chunkedJobs(m *Manifest) {
	// yaml parsing is most of the time and each chunk parses on its own, so
	// chunks are parsed ahead on every core while this goroutine decodes
	// them into jobs in order (decoding touches shared state; parsing does
	// not). The look-ahead is bounded, so memory stays a few chunks' trees.
	type parsed struct {
		seq *yaml.Node
		err error
	}
	chunks := d.chunks.chunks
	results := make([]chan parsed, len(chunks))
	for i := range results {
		results[i] = make(chan parsed, 1)
	}
	ahead := make(chan struct{}, runtime.GOMAXPROCS(0)+1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i, c := range chunks {
			select {
			case ahead <- struct{}{}:
			case <-stop:
				return
			}
			go func() {
				seq, err := parseOne(d.data[c.off:c.end])
				results[i] <- parsed{seq, err}
			}()
		}
	}()
	for i, c := range chunks {
		r := <-results[i]
		<-ahead
		if r.err != nil || r.seq.Kind != yaml.SequenceNode || len(r.seq.Content) != c.count {
			d.fallback = true
			return
		}
		cd := *d
		cd.lineOff = c.line - 1
		for _, e := range r.seq.Content {
			j := m.newJob(cd.pos(e), m.Dir)
			cd.yamlJob(e, j.Index, j, &m.Defaults)
		}
	}
}
