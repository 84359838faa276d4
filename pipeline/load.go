package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Load reads and decodes the manifest at path. env looks up ${VAR}s
// (os.LookupEnv in production). Relative paths in the manifest (jobsFrom,
// local inputs) resolve against the manifest's directory. A non-nil error
// is always a Diags; see Parse for the manifest returned with it.
func Load(path string, env func(string) (string, bool)) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Diags{{Pos: Pos{File: path}, Msg: "cannot read manifest: " + unwrapPathError(err)}}
	}
	return Parse(path, data, filepath.Dir(path), env)
}

// Parse decodes manifest bytes; file is the name used in positions, dir the
// directory relative paths (jobsFrom, local inputs) resolve against. env
// looks up ${VAR}s; nil means no variable is set. On any problem it returns
// every problem found, as Diags sorted by position, together with the
// partially decoded manifest when the YAML itself parsed (values with
// problems are left unset; nil after a syntax error). The caller may check
// that manifest further, so that every problem is reported in one run, but
// must never run it.
func Parse(file string, data []byte, dir string, env func(string) (string, bool)) (*Manifest, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	st := &state{env: env}
	st.diags.files = append(st.diags.files, file)
	m := st.parse(file, data, dir)
	if len(st.diags.ds) > 0 {
		return m, st.diags.sorted()
	}
	return m, nil
}

// state is shared by everything decoding one manifest and its jobsFrom
// files.
type state struct {
	env         func(string) (string, bool)
	diags       diagList
	mergeVisits int
	defaultsSet uint32 // mask of the params the defaults set
}

// decoder reads YAML nodes from one source. For JSONL every position is
// the line (line > 0); otherwise node line and column.
type decoder struct {
	st      *state
	file    string
	line    int
	lineOff int // added to node lines (a chunk parsed on its own)

	// Set on the chunked path: the job chunks to decode instead of the
	// (null) jobs value of the head, the file bytes, and whether a chunk
	// failed so the whole-file path must run.
	chunks   *jobsBlock
	data     []byte
	fallback bool
}

func (d *decoder) pos(n *yaml.Node) Pos {
	if d.line > 0 {
		return Pos{File: d.file, Line: d.line}
	}
	return Pos{File: d.file, Line: n.Line + d.lineOff, Col: n.Column}
}

func (d *decoder) add(pos Pos, path, msg string) { d.st.diags.add(pos, path, msg) }

func (st *state) parse(file string, data []byte, dir string) *Manifest {
	if len(data) >= chunkMinBytes {
		if b, ok := findJobsBlock(data); ok {
			fast := &state{env: st.env, diags: diagList{files: st.diags.files}}
			if m, err := fast.parseChunked(file, data, dir, b); err == nil {
				*st = *fast
				return m
			}
		}
	}
	root := st.readYAML(file, data)
	if root == nil {
		return nil
	}
	m := &Manifest{File: file, Dir: dir}
	d := &decoder{st: st, file: file}
	d.manifest(root, m)
	return m
}

// readYAML parses the single YAML document in data and returns its root
// mapping, or nil after reporting why there is none.
func (st *state) readYAML(file string, data []byte) (root *yaml.Node) {
	defer func() {
		// yaml.v3 reports syntax errors through its own recover; this
		// guards against a parser bug turning bad input into a crash.
		if r := recover(); r != nil {
			st.diags.add(Pos{File: file}, "", fmt.Sprintf("cannot parse YAML: %v", r))
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			st.diags.add(Pos{File: file}, "", "manifest is empty")
		} else {
			st.diags.ds = append(st.diags.ds, yamlErrorDiags(file, err, 0)...)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		st.diags.add(Pos{File: file, Line: extra.Line, Col: extra.Column}, "",
			"manifest has more than one YAML document (remove the second ---)")
		return nil
	case !errors.Is(err, io.EOF):
		st.diags.ds = append(st.diags.ds, yamlErrorDiags(file, err, 0)...)
		return nil
	}
	if len(doc.Content) == 0 {
		st.diags.add(Pos{File: file}, "", "manifest is empty")
		return nil
	}
	r := resolve(doc.Content[0])
	if r.Kind != yaml.MappingNode {
		l := leaf{kind: r.Kind, text: r.Value, tag: r.Tag}
		st.diags.add(Pos{File: file, Line: r.Line, Col: r.Column}, "", "manifest must be a mapping of keys (version, name, output, jobs, ...), got "+describe(l))
		return nil
	}
	return r
}

func unwrapPathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
