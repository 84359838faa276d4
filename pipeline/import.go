package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// jobsFile is one jobsFrom entry.
type jobsFile struct {
	k    int    // index in jobsFrom
	pos  Pos    // where the entry is written
	path string // the file, joined to the manifest dir (as the user would type it)
}

// jobsSource is a jobsFrom file that was read.
type jobsSource struct {
	jobsFile
	data    []byte
	jsonl   bool
	maxJobs int // an upper bound on its jobs (its line count), to size m.Jobs
}

// jobsFromList decodes `jobsFrom`: one path or a list of paths.
func (d *decoder) jobsFromList(n *yaml.Node, dir string) []jobsFile {
	if n == nil {
		return nil
	}
	var items []*yaml.Node
	switch r := resolve(n); {
	case r.Kind == yaml.SequenceNode:
		items = r.Content
	case r.Kind == yaml.ScalarNode && !isNull(r):
		items = []*yaml.Node{n}
	case isNull(r):
		return nil
	default:
		d.st.typeErr(d.leafOf(n), "jobsFrom", "must be a file name or a list of file names")
		return nil
	}
	var out []jobsFile
	for k, e := range items {
		path := "jobsFrom[" + strconv.Itoa(k) + "]"
		l := d.leafOf(e)
		if l.kind != yaml.ScalarNode || l.tag == "!!null" {
			d.st.typeErr(l, path, "must be a file name")
			continue
		}
		name, ok := d.st.str(l, path)
		if !ok {
			continue
		}
		if name == "" {
			d.add(l.pos, path, "must be a file name, got an empty string")
			continue
		}
		if !filepath.IsAbs(name) && dir != "" {
			name = filepath.Join(dir, name)
		}
		out = append(out, jobsFile{k: k, pos: l.pos, path: name})
	}
	return out
}

// readJobsFiles reads every jobsFrom file, reporting the ones that cannot
// be used at their jobsFrom entry.
func (st *state) readJobsFiles(files []jobsFile) []jobsSource {
	var out []jobsSource
	for _, f := range files {
		path := "jobsFrom[" + strconv.Itoa(f.k) + "]"
		var jsonl bool
		switch strings.ToLower(filepath.Ext(f.path)) {
		case ".csv":
		case ".jsonl", ".ndjson":
			jsonl = true
		default:
			st.diags.add(f.pos, path, "cannot tell the format of "+quote(f.path)+": jobsFrom files must end in .csv, .jsonl or .ndjson")
			continue
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			st.diags.add(f.pos, path, "cannot read "+quote(f.path)+": "+unwrapPathError(err))
			continue
		}
		st.diags.files = append(st.diags.files, f.path)
		out = append(out, jobsSource{jobsFile: f, data: data, jsonl: jsonl, maxJobs: bytes.Count(data, []byte{'\n'}) + 1})
	}
	return out
}

// importJobs appends the jobs of one jobsFrom file to m.Jobs.
func (st *state) importJobs(s jobsSource, m *Manifest) {
	dir := filepath.Dir(s.path)
	head := "jobsFrom[" + strconv.Itoa(s.k) + "]["
	if s.jsonl {
		st.jsonlJobs(s, dir, head, m)
	} else {
		st.csvJobs(s, dir, head, m)
	}
}

// jsonlJobs decodes one JSON object per line, through yaml.v3 (JSON is
// YAML), so types and messages match the manifest's own jobs.
func (st *state) jsonlJobs(s jobsSource, dir, head string, m *Manifest) {
	data := s.data
	i := 0
	for line := 1; len(data) > 0; line++ {
		var text []byte
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			text, data = data[:nl], data[nl+1:]
		} else {
			text, data = data, nil
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		pos := Pos{File: s.path, Line: line}
		if text[0] != '{' {
			st.diags.add(pos, head[:len(head)-1], "each line must be a JSON object (one job)")
			continue
		}
		var n yaml.Node
		if err := yaml.Unmarshal(text, &n); err != nil {
			for _, dg := range yamlErrorDiags(s.path, err, line) {
				st.diags.add(dg.Pos, head[:len(head)-1], "invalid JSON: "+dg.Msg)
			}
			continue
		}
		if len(n.Content) == 0 {
			continue
		}
		m.newJob(pos, dir)
		d := decoder{st: st, file: s.path, line: line}
		d.mappingJob(n.Content[0], &m.Jobs[len(m.Jobs)-1], head, i, &m.Defaults)
		i++
	}
}
